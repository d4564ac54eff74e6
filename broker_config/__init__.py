"""Khiu's Mosquitto: configuration, ACL, credentials and TLS for one office's broker.

- `acl`: the rights of each device role as data, rendered to Mosquitto's `acl_file`.
- `registry`, `devices`: the device registry (devices.toml) and adding/removing devices with passwords.
- `passwd`: Mosquitto 2.0 `$7$` PBKDF2-SHA512 password lines, in Python.
- `tls`: the office CA and the broker's server certificate.
- `conf`: `mosquitto.conf` from `mosquitto.template.conf`.
- `runner`, `control`: start and stop Mosquitto, reload it (SIGHUP), check a login.
- `cli`: `khiu broker`, `khiu admin device …`, `khiu admin tls init`.

Files live in `common.paths.broker_dir(data_dir)`; `bridge.conf.example` joins an office to a centre.
"""
