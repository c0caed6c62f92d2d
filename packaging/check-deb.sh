#!/bin/sh
# check-deb.sh DAEMON.deb SIM.deb: the smoke check `make deb` ends with. The daemon package
# holds every file the operator needs at Debian's paths (the example configuration 0644 and a
# conffile, both units with ExecStart=/usr/bin/ucwa-eventd, the catalog, manual pages,
# completions, copyright, changelog), its Depends: names Debian packages only (libcurl4,
# libsystemd0, libc6, …; nothing from the Swift toolchain), and its program runs with the
# toolchain hidden (a tmpfs over /opt/swift in a mount namespace, when this user may make one;
# else its NEEDED entries are checked). Quiet on success; on failure it says what is wrong.
set -eu
daemon=${1:?usage: check-deb.sh DAEMON.deb SIM.deb}
sim=${2:?usage: check-deb.sh DAEMON.deb SIM.deb}
failures=0
fail() { echo "check-deb.sh: $*" >&2; failures=$((failures + 1)); }

contents=$(dpkg-deb -c "$daemon")
for path in ./usr/bin/ucwa-eventd ./lib/systemd/system/ucwa-eventd.service ./lib/systemd/system/ucwa-eventd@.service \
  ./usr/lib/systemd/catalog/ucwa-eventd.catalog ./etc/ucwa-eventd/ucwa-eventd.conf.example \
  ./usr/share/man/man8/ucwa-eventd.8.gz ./usr/share/man/man5/ucwa-eventd.conf.5.gz \
  ./usr/share/bash-completion/completions/ucwa-eventd ./usr/share/zsh/vendor-completions/_ucwa-eventd \
  ./usr/share/fish/vendor_completions.d/ucwa-eventd.fish \
  ./usr/share/doc/ucwa-eventd/copyright ./usr/share/doc/ucwa-eventd/changelog.gz; do
  echo "$contents" | grep -q " $path\$" || fail "$daemon lacks $path"
done
echo "$contents" | grep -q '^-rw-r--r-- root/root .* ./etc/ucwa-eventd/ucwa-eventd.conf.example$' \
  || fail "$daemon: the example configuration is not -rw-r--r-- root/root"
echo "$contents" | grep -q '^-rwxr-xr-x root/root .* ./usr/bin/ucwa-eventd$' || fail "$daemon: /usr/bin/ucwa-eventd is not -rwxr-xr-x root/root"

depends=$(dpkg-deb -f "$daemon" Depends)
case "$depends" in *swift*|*Swift*) fail "$daemon: Depends names Swift: $depends" ;; esac
for needed in libc6 libcurl4 libsystemd0; do
  case "$depends" in *"$needed"*) ;; *) fail "$daemon: Depends lacks $needed: $depends" ;; esac
done
dpkg-deb -I "$daemon" conffiles 2>/dev/null | grep -qx /etc/ucwa-eventd/ucwa-eventd.conf.example \
  || fail "$daemon: /etc/ucwa-eventd/ucwa-eventd.conf.example is not a conffile"
for script in postinst prerm postrm; do
  dpkg-deb -I "$daemon" "$script" >/dev/null 2>&1 || fail "$daemon has no $script"
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dpkg-deb -x "$daemon" "$work/root"
for unit in ucwa-eventd.service ucwa-eventd@.service; do
  grep -q '^ExecStart=/usr/bin/ucwa-eventd ' "$work/root/lib/systemd/system/$unit" \
    || fail "$unit: ExecStart= does not start /usr/bin/ucwa-eventd"
done
program="$work/root/usr/bin/ucwa-eventd"
if readelf -d "$program" | grep -E 'NEEDED.*swift|RUNPATH|RPATH' >"$work/dynamic"; then
  fail "$program still needs the toolchain: $(tr -s ' ' <"$work/dynamic")"
fi
if unshare -m true 2>/dev/null && [ -d /opt/swift ]; then
  version=$(unshare -m sh -c 'mount -t tmpfs none /opt/swift && exec "$0" --version' "$program" 2>&1) \
    || fail "$program does not run with /opt/swift hidden: $version"
fi

sim_contents=$(dpkg-deb -c "$sim")
for path in ./usr/bin/ucwa-sim ./usr/share/man/man1/ucwa-sim.1.gz ./usr/share/doc/ucwa-sim/copyright; do
  echo "$sim_contents" | grep -q " $path\$" || fail "$sim lacks $path"
done
case "$(dpkg-deb -f "$sim" Depends)" in *swift*) fail "$sim: Depends names Swift" ;; esac

[ "$failures" = 0 ] || exit 1
