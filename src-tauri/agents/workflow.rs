//! Workflows: named sequences of steps over a shared context, declared as data here and
//! nowhere else. The facade (stored data) and the replay (streams) walk a workflow's plan.
//!
//! **Emergency override.** Once a critical finding appears, the steps marked non-essential
//! that remain are skipped, so the alert and the notification go out first.

use serde::Serialize;

/// A step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Store the reading.
    Store,
    /// Load a patient's stored data.
    Load,
    /// Windows, Kalman, NEWS2 inputs: build the assessment context.
    Analyse,
    /// Run the routed agents and synthesise.
    Assess,
    /// Summarise trends and metrics for the chart (non-essential).
    Summarise,
    /// Raise alerts (threshold, rate limit) and store them.
    Alert,
    /// Tell the clinician (print, window, later the clinic server).
    Notify,
}

/// A step and whether an emergency may skip it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct WorkflowStep {
    /// The step.
    pub step: Step,
    /// Kept under the emergency override.
    pub essential: bool,
}

/// A named workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Workflow {
    /// Its name.
    pub name: &'static str,
    /// Its steps, in order.
    pub steps: &'static [WorkflowStep],
}

const fn essential(step: Step) -> WorkflowStep {
    WorkflowStep { step, essential: true }
}

const fn optional(step: Step) -> WorkflowStep {
    WorkflowStep { step, essential: false }
}

/// A new device reading: store, analyse, assess, (summarise), alert, notify.
pub const DEVICE_READING: Workflow = Workflow {
    name: "device_reading",
    steps: &[
        essential(Step::Store),
        essential(Step::Analyse),
        essential(Step::Assess),
        optional(Step::Summarise),
        essential(Step::Alert),
        essential(Step::Notify),
    ],
};

/// A clinician asks for a full assessment of stored data.
pub const REVIEW: Workflow = Workflow {
    name: "review",
    steps: &[
        essential(Step::Load),
        essential(Step::Analyse),
        essential(Step::Assess),
        optional(Step::Summarise),
        essential(Step::Alert),
        essential(Step::Notify),
    ],
};

/// Every workflow.
pub const WORKFLOWS: [Workflow; 2] = [DEVICE_READING, REVIEW];

impl Workflow {
    /// The steps after `done` (exclusive) that still run; with `critical`, the non-essential
    /// ones are dropped.
    pub fn remaining(&self, done: Step, critical: bool) -> Vec<Step> {
        let after = self.steps.iter().position(|s| s.step == done).map_or(0, |i| i + 1);
        self.steps[after..].iter().filter(|s| s.essential || !critical).map(|s| s.step).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_critical_finding_skips_the_non_essential_steps() {
        assert_eq!(
            DEVICE_READING.remaining(Step::Assess, false),
            [Step::Summarise, Step::Alert, Step::Notify]
        );
        assert_eq!(DEVICE_READING.remaining(Step::Assess, true), [Step::Alert, Step::Notify]);
        assert_eq!(
            REVIEW.remaining(Step::Load, true),
            [Step::Analyse, Step::Assess, Step::Alert, Step::Notify]
        );
    }
}
