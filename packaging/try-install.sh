#!/bin/sh
# try-install.sh DAEMON.deb SIM.deb: installs both packages with apt-get in a throw-away
# overlay of / (a private mount namespace; nothing on the host changes) with /opt/swift
# hidden, and checks what an operator relies on without a running systemd (the real-systemd
# test boots one): the programs run, the example configuration is 0644 and a conffile, the
# catalog and manual pages are installed, `demo` finds ucwa-sim; `apt-get remove` keeps
# /etc/ucwa-eventd, `apt-get purge` removes the example but keeps the operator's
# alice.conf, alice.password and the state directory. Needs root and overlayfs; says so
# and exits 77 (skipped) when it cannot. `make deb-try` runs it.
set -eu
daemon=$(realpath "${1:?usage: try-install.sh DAEMON.deb SIM.deb}")
sim=$(realpath "${2:?usage: try-install.sh DAEMON.deb SIM.deb}")

if [ "${TRY_INSTALL_INSIDE:-}" != 1 ]; then
  if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
    echo "try-install.sh: skipped: needs root and a private mount namespace (unshare -m)" >&2
    exit 77
  fi
  exec unshare -m --propagation private env TRY_INSTALL_INSIDE=1 "$0" "$daemon" "$sim"
fi

work=$(mktemp -d /tmp/ucwa-try-install-XXXXXX)
trap 'umount -R "$work/merged" 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/upper" "$work/work" "$work/merged"
if ! mount -t overlay overlay -o "lowerdir=/,upperdir=$work/upper,workdir=$work/work" "$work/merged" 2>"$work/mount.err"; then
  echo "try-install.sh: skipped: cannot mount an overlay of /: $(cat "$work/mount.err")" >&2
  exit 77
fi
root=$work/merged
[ ! -d "$root/opt/swift" ] || mount -t tmpfs none "$root/opt/swift"
mount -t tmpfs none "$root/run"
mount -t tmpfs none "$root/tmp"
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
mount -t devpts devpts "$root/dev/pts" 2>/dev/null || true
cp "$daemon" "$sim" "$root/tmp/"

chroot "$root" env DAEMON="$(basename "$daemon")" SIM="$(basename "$sim")" sh -eu -c '
fail() { echo "try-install.sh: $*" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
[ -z "$(ls /opt/swift 2>/dev/null)" ] || fail "/opt/swift is not hidden"
cd /tmp
apt-get install -y -qq "./$DAEMON" "./$SIM" >/tmp/apt.log 2>&1 || fail "apt-get install failed: $(cat /tmp/apt.log)"
version=$(ucwa-eventd --version) || fail "ucwa-eventd does not run without the toolchain"
! ldd /usr/bin/ucwa-eventd | grep -q "not found" || fail "ldd: $(ldd /usr/bin/ucwa-eventd | grep "not found")"
[ "$(stat -c %a /etc/ucwa-eventd/ucwa-eventd.conf.example)" = 644 ] || fail "the example configuration is not 0644"
grep -qx /etc/ucwa-eventd/ucwa-eventd.conf.example /var/lib/dpkg/info/ucwa-eventd.conffiles || fail "the example is not a conffile"
journalctl --list-catalog 2>/dev/null | grep -q ucwa || fail "journalctl --list-catalog shows no ucwa-eventd entry"
man -w ucwa-eventd >/dev/null && man -w ucwa-eventd.conf >/dev/null && man -w ucwa-sim >/dev/null || fail "a manual page is missing"
ucwa-eventd demo --invitations 3 >/tmp/demo.out 2>/tmp/demo.err || fail "demo failed: $(cat /tmp/demo.err)"
grep -q "^demo: 3 invitations" /tmp/demo.err || fail "demo printed no summary: $(cat /tmp/demo.err)"
install -m 0644 /etc/ucwa-eventd/ucwa-eventd.conf.example /etc/ucwa-eventd/alice.conf
printf "pw\n" | install -m 0600 /dev/stdin /etc/ucwa-eventd/alice.password
mkdir -p /var/lib/private/ucwa-eventd/alice && echo "{}" >/var/lib/private/ucwa-eventd/alice/checkpoint.json
apt-get remove -y -qq ucwa-eventd ucwa-sim >/tmp/apt.log 2>&1 || fail "apt-get remove failed: $(cat /tmp/apt.log)"
[ ! -e /usr/bin/ucwa-eventd ] || fail "remove left /usr/bin/ucwa-eventd"
[ -f /etc/ucwa-eventd/ucwa-eventd.conf.example ] || fail "remove took the conffile"
apt-get purge -y -qq ucwa-eventd ucwa-sim >/tmp/apt.log 2>&1 || fail "apt-get purge failed: $(cat /tmp/apt.log)"
[ ! -e /etc/ucwa-eventd/ucwa-eventd.conf.example ] || fail "purge left the example configuration"
for kept in /etc/ucwa-eventd/alice.conf /etc/ucwa-eventd/alice.password /var/lib/private/ucwa-eventd/alice/checkpoint.json; do
  [ -f "$kept" ] || fail "purge removed $kept, which the operator made"
done
! dpkg -s ucwa-eventd >/dev/null 2>&1 || fail "ucwa-eventd is still known to dpkg"
echo "try-install.sh: ucwa-eventd $version installed without the toolchain, ran demo, removed and purged as documented"
'
