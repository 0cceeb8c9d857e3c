//! Accounts (`vigil user ...`, the window's user screen), restricted records and
//! break-the-glass. Every change is audited; every call passes [`Workstation::authorize`].

use chrono::Duration;

use super::access::{Secret, UserSummary, hash, new_service_token, principal_of};
use super::{Error, Workstation, find};
use crate::domain::PatientRef;
use crate::domain::access::{self, Operation, Role};
use crate::store::{StoreError, users};

impl Workstation {
    /// Adds a person with a password. Administrators only.
    pub async fn add_user(&self, name: &str, role: Role, password: Secret) -> Result<UserSummary, Error> {
        self.authorize(Operation::UsersManage).await?;
        let name = access::validate_user_name(name)?;
        access::validate_password(&name, &password)?;
        let hash = hash(password).await?;
        self.insert_user(&name, role, users::Credential::Password(&hash)).await
    }

    /// Adds a service account and returns its token, shown once (`vigil monitor`, IT's scripts
    /// sign in with it). Administrators only.
    pub async fn add_service_account(&self, name: &str, role: Role) -> Result<(UserSummary, Secret), Error> {
        self.authorize(Operation::UsersManage).await?;
        let name = access::validate_user_name(name)?;
        let token = new_service_token()?;
        let digest = super::access::token_digest(&token);
        let summary = self.insert_user(&name, role, users::Credential::Token(&digest)).await?;
        Ok((summary, token))
    }

    async fn insert_user(
        &self,
        name: &str,
        role: Role,
        credential: users::Credential<'_>,
    ) -> Result<UserSummary, Error> {
        let now = self.clock.now();
        let service = matches!(credential, users::Credential::Token(_));
        let mut tx = self.store.begin().await?;
        let id = users::insert(&mut tx, name, role, credential, &self.actor_name(), now).await?;
        let detail = serde_json::json!({ "user": name, "role": role.as_str(), "service": service });
        self.audit_id(&mut tx, "user.create", None, detail).await?;
        let row = users::by_id(&mut *tx, id).await?.ok_or_else(|| Error::UserNotFound(name.to_owned()))?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(summary(&row))
    }

    /// Every account (no hashes or tokens). Administrators only; audited.
    pub async fn users(&self) -> Result<Vec<UserSummary>, Error> {
        self.authorize(Operation::UsersRead).await?;
        let rows = users::list(self.store.pool()).await?;
        self.audit_read_id("user.list", None, serde_json::json!({ "count": rows.len() })).await;
        Ok(rows.iter().map(summary).collect())
    }

    /// Disables or enables an account; disabling ends its command-line sessions. The last
    /// enabled administrator cannot be disabled.
    pub async fn set_user_disabled(&self, name: &str, disabled: bool) -> Result<UserSummary, Error> {
        self.authorize(Operation::UsersManage).await?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let user =
            users::by_name(&mut *tx, name).await?.ok_or_else(|| Error::UserNotFound(name.to_owned()))?;
        if disabled
            && user.role == Role::Admin
            && !user.disabled
            && users::enabled_admins(&mut *tx).await? <= 1
        {
            return Err(Error::Access(format!(
                "{} is the last enabled administrator; add another before disabling it",
                user.name
            )));
        }
        users::set_disabled(&mut tx, user.id, disabled).await?;
        if disabled {
            users::end_sessions_of(&mut tx, user.id, now).await?;
        }
        let action = if disabled { "user.disable" } else { "user.enable" };
        self.audit_id(&mut tx, action, None, serde_json::json!({ "user": user.name })).await?;
        let row =
            users::by_id(&mut *tx, user.id).await?.ok_or_else(|| Error::UserNotFound(name.to_owned()))?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(summary(&row))
    }

    /// Changes an account's role. The last enabled administrator keeps its role.
    pub async fn set_user_role(&self, name: &str, role: Role) -> Result<UserSummary, Error> {
        self.authorize(Operation::UsersManage).await?;
        let mut tx = self.store.begin().await?;
        let user =
            users::by_name(&mut *tx, name).await?.ok_or_else(|| Error::UserNotFound(name.to_owned()))?;
        if user.role == Role::Admin && role != Role::Admin && users::enabled_admins(&mut *tx).await? <= 1 {
            return Err(Error::Access(format!("{} is the last administrator; add another first", user.name)));
        }
        users::set_role(&mut tx, user.id, role).await?;
        let detail =
            serde_json::json!({ "user": user.name, "from": user.role.as_str(), "to": role.as_str() });
        self.audit_id(&mut tx, "user.role", None, detail).await?;
        let row =
            users::by_id(&mut *tx, user.id).await?.ok_or_else(|| Error::UserNotFound(name.to_owned()))?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(summary(&row))
    }

    /// Sets a password. One's own needs the current one; another person's needs an
    /// administrator (it also clears a lockout and ends that person's command-line sessions).
    pub async fn set_password(&self, name: &str, current: Option<Secret>, new: Secret) -> Result<(), Error> {
        let me = self.authorize(Operation::OwnAccount).await?;
        let own = me.name.eq_ignore_ascii_case(name.trim());
        if !own {
            self.authorize(Operation::UsersManage).await?;
        }
        let user = users::by_name(self.store.pool(), name)
            .await?
            .ok_or_else(|| Error::UserNotFound(name.to_owned()))?;
        if user.service {
            return Err(Error::Access(format!(
                "{} is a service account: it has a token, not a password",
                user.name
            )));
        }
        access::validate_password(&user.name, &new)?;
        if own {
            let current = current
                .ok_or_else(|| Error::Access("changing your own password needs the current one".into()))?;
            self.check_password_of(&user, current).await?;
        }
        let hash = hash(new).await?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        users::set_password(&mut tx, user.id, &hash, now).await?;
        if !own {
            users::end_sessions_of(&mut tx, user.id, now).await?;
        }
        self.audit_id(&mut tx, "user.password", None, serde_json::json!({ "user": user.name, "own": own }))
            .await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }

    async fn check_password_of(&self, user: &users::UserRow, password: Secret) -> Result<(), Error> {
        self.check_credentials(&user.name, password).await.map(|_| ())
    }

    /// Marks a patient's record restricted (opening it then needs a reason) or lifts it.
    pub async fn set_restricted(&self, reference: &PatientRef, restricted: bool) -> Result<bool, Error> {
        self.authorize(Operation::PatientRestrict).await?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let patient = find(&mut tx, reference).await?;
        let actor = self.actor_name();
        let changed = users::set_restricted(&mut tx, patient.id, restricted, &actor, now).await?;
        if changed {
            let action = if restricted { "patient.restrict" } else { "patient.unrestrict" };
            self.audit_id(&mut tx, action, Some(patient.id), serde_json::json!({})).await?;
        }
        tx.commit().await.map_err(StoreError::from)?;
        Ok(changed)
    }

    /// Opens a restricted record for [`access::BREAK_GLASS_HOURS`] hours, with a reason:
    /// flagged in the audit (`patient.break_glass`) and listed by `vigil audit btg`. Returns
    /// until when (RFC 3339).
    pub async fn break_glass(&self, reference: &PatientRef, reason: &str) -> Result<String, Error> {
        let me = self.authorize(Operation::BreakGlass).await?;
        let reason = access::validate_break_glass_reason(reason)?;
        let now = self.clock.now();
        let until = now + Duration::hours(access::BREAK_GLASS_HOURS);
        let mut tx = self.store.begin().await?;
        let patient = find(&mut tx, reference).await?;
        users::insert_grant(&mut tx, me.id, patient.id, &reason, now, until).await?;
        let detail = serde_json::json!({ "reason": reason, "until": until.to_rfc3339() });
        self.audit_id(&mut tx, "patient.break_glass", Some(patient.id), detail).await?;
        tx.commit().await.map_err(StoreError::from)?;
        tracing::warn!("a restricted record was opened by break-the-glass");
        Ok(until.to_rfc3339())
    }
}

fn summary(row: &users::UserRow) -> UserSummary {
    let p = principal_of(row);
    UserSummary {
        name: p.name,
        role: p.role,
        service: p.service,
        disabled: row.disabled,
        locked_until: row.failed.locked_until.map(|t| t.to_rfc3339()),
        created_at: row.created_at.to_rfc3339(),
        created_by: row.created_by.clone(),
    }
}
