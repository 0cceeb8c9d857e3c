#!/usr/bin/env python3
"""A stand-in BlueZ on a private D-Bus system bus, for btleplug's real BlueZ backend (issue 13).

Our machines have no Bluetooth in their kernel, so BlueZ cannot run: this is python-dbusmock's
`bluez5` template (adapters, devices, pairing) with the GATT objects BlueZ would export for a
heart-rate sensor added: a Heart Rate service (0x180D) whose Heart Rate Measurement (0x2A37)
notifies, and a Battery service (0x180F) whose level (0x2A19) reads. Connect and StartNotify
behave as BlueZ's do (Connected and ServicesResolved turn true; a second StartNotify from the
same client is refused with org.bluez.Error.InProgress); while notifications are on, a value
is sent each `--every` seconds as a PropertiesChanged(Value) signal.

Prints `READY <bus address>` on standard output when the bus and the device are up, then runs
until killed or `--values` values are sent (`--drop-after N` disconnects the device after N
values and lets it connect again, as a device walking out of range and back).
"""

import argparse
import subprocess
import sys

import dbus
import dbus.mainloop.glib
import dbusmock
from gi.repository import GLib

DEVICE = "org.bluez.Device1"
SERVICE = "org.bluez.GattService1"
CHAR = "org.bluez.GattCharacteristic1"
PROPS = "org.freedesktop.DBus.Properties"
MOCK = "org.freedesktop.DBus.Mock"


def sig(short):
    return f"0000{short:04x}-0000-1000-8000-00805f9b34fb"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--address", default="F0:12:34:56:78:9A")
    parser.add_argument("--name", default="Vigil Test HR")
    parser.add_argument("--values", type=int, default=10)
    parser.add_argument("--every", type=float, default=0.5)
    parser.add_argument("--drop-after", type=int, default=0)
    parser.add_argument("--verbose", action="store_true", help="show the mock's log of D-Bus calls")
    args = parser.parse_args()

    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    dbusmock.DBusTestCase.start_system_bus()
    server, bluez = dbusmock.DBusTestCase.spawn_server_template(
        "bluez5", {}, stdout=sys.stderr if args.verbose else subprocess.DEVNULL
    )
    bluez.AddAdapter("hci0", "vigil-test", dbus_interface="org.bluez.Mock")
    dev_path = bluez.AddDevice("hci0", args.address, args.name, dbus_interface="org.bluez.Mock")
    bus = dbusmock.DBusTestCase.get_dbus(system_bus=True)
    dev = bus.get_object("org.bluez", dev_path)
    dev_mock = dbus.Interface(dev, MOCK)
    dev_mock.UpdateProperties(DEVICE, {"UUIDs": dbus.Array([sig(0x180D), sig(0x180F)], signature="s")})
    # BlueZ's Connect: the link is up and the services are resolved; a second Connect while
    # connected succeeds (BlueZ answers AlreadyConnected only during a connect in progress).
    dev_mock.AddMethod(
        DEVICE,
        "Connect",
        "",
        "",
        "self.UpdateProperties('org.bluez.Device1', {'Connected': dbus.Boolean(True), 'ServicesResolved': dbus.Boolean(True)})",
    )
    # BlueZ's Pair connects and resolves the services on the way (bluez-async waits for it).
    dev_mock.AddMethod(
        DEVICE,
        "Pair",
        "",
        "",
        "self.UpdateProperties('org.bluez.Device1', {'Paired': dbus.Boolean(True), 'Connected': dbus.Boolean(True), 'ServicesResolved': dbus.Boolean(True)})",
    )
    dev_mock.AddMethod(
        DEVICE,
        "Disconnect",
        "",
        "",
        "self.UpdateProperties('org.bluez.Device1', {'Connected': dbus.Boolean(False), 'ServicesResolved': dbus.Boolean(False)})",
    )

    # dbusmock lists an interface that has only properties after the object's child nodes,
    # where BlueZ lists it before them; bluez-async's XML reader refuses interfaces split by
    # nodes. A method (BlueZ's GattService1 has none; nobody calls it) keeps it in place.
    in_place = [("StandIn", "", "", "")]
    hr_service = dev_path + "/service000a"
    bluez_mock = dbus.Interface(bus.get_object("org.bluez", "/"), MOCK)
    bluez_mock.AddObject(
        hr_service, SERVICE, {"UUID": sig(0x180D), "Primary": True, "Device": dbus.ObjectPath(dev_path)}, in_place
    )
    hr_char = hr_service + "/char000b"
    start_notify = (
        "if self.Get('org.bluez.GattCharacteristic1', 'Notifying'):\n"
        "    raise dbus.exceptions.DBusException('Already notifying', name='org.bluez.Error.InProgress')\n"
        "self.UpdateProperties('org.bluez.GattCharacteristic1', {'Notifying': dbus.Boolean(True)})"
    )
    bluez_mock.AddObject(
        hr_char,
        CHAR,
        {
            "UUID": sig(0x2A37),
            "Service": dbus.ObjectPath(hr_service),
            "Flags": dbus.Array(["notify"], signature="s"),
            "Notifying": False,
            "Value": dbus.Array([], signature="y"),
        },
        [
            ("StartNotify", "", "", start_notify),
            ("StopNotify", "", "", "self.UpdateProperties('org.bluez.GattCharacteristic1', {'Notifying': dbus.Boolean(False)})"),
        ],
    )
    battery_service = dev_path + "/service0010"
    bluez_mock.AddObject(
        battery_service, SERVICE, {"UUID": sig(0x180F), "Primary": True, "Device": dbus.ObjectPath(dev_path)}, in_place
    )
    bluez_mock.AddObject(
        battery_service + "/char0011",
        CHAR,
        {
            "UUID": sig(0x2A19),
            "Service": dbus.ObjectPath(battery_service),
            "Flags": dbus.Array(["read"], signature="s"),
            "Notifying": False,
            "Value": dbus.Array([87], signature="y"),
        },
        [("ReadValue", "a{sv}", "ay", "ret = dbus.Array([87], signature='y')")],
    )

    # Device Information (0x180A): the manufacturer and model strings, read once a connection.
    info_service = dev_path + "/service0020"
    bluez_mock.AddObject(
        info_service, SERVICE, {"UUID": sig(0x180A), "Primary": True, "Device": dbus.ObjectPath(dev_path)}, in_place
    )
    for n, (short, text) in enumerate([(0x2A29, "Vigil Test Devices"), (0x2A24, "HR-1")]):
        value = dbus.Array(list(text.encode()), signature="y")
        bluez_mock.AddObject(
            f"{info_service}/char002{n + 1}",
            CHAR,
            {
                "UUID": sig(short),
                "Service": dbus.ObjectPath(info_service),
                "Flags": dbus.Array(["read"], signature="s"),
                "Notifying": dbus.Boolean(False),
                "Value": value,
            },
            [("ReadValue", "a{sv}", "ay", f"ret = dbus.Array({list(text.encode())}, signature='y')")],
        )

    char = bus.get_object("org.bluez", hr_char)
    char_props = dbus.Interface(char, PROPS)
    char_mock = dbus.Interface(char, MOCK)
    state = {"sent": 0, "dropped": False}

    def tick():
        if not dev.Get(DEVICE, "Connected", dbus_interface=PROPS):
            return True
        if not char_props.Get(CHAR, "Notifying"):
            return True
        if args.drop_after and state["sent"] == args.drop_after and not state["dropped"]:
            state["dropped"] = True
            dev_mock.UpdateProperties(DEVICE, {"Connected": False, "ServicesResolved": False})
            return True
        state["sent"] += 1
        # Heart Rate Measurement: flags 0x16 (u8 rate, contact supported and detected, RR
        # present), the rate, one RR interval of 1024/1024 s.
        rate = 60 + state["sent"]
        value = dbus.Array([0x16, rate, 0x00, 0x04], signature="y")
        char_mock.EmitSignal(PROPS, "PropertiesChanged", "sa{sv}as", [CHAR, {"Value": value}, dbus.Array([], signature="s")])
        if state["sent"] >= args.values:
            print("SENT", state["sent"], flush=True)
        return True

    GLib.timeout_add(int(args.every * 1000), tick)
    print("READY", address_of(), flush=True)
    try:
        GLib.MainLoop().run()
    finally:
        server.terminate()


def address_of():
    import os

    return os.environ["DBUS_SYSTEM_BUS_ADDRESS"]


if __name__ == "__main__":
    main()
