#!/bin/sh
# build-deb.sh PACKAGE STAGING VERSION OUTDIR: turns a staging tree (made by `make
# install-files DESTDIR=…`) into OUTDIR/PACKAGE_VERSION_ARCH.deb with dpkg-deb. Adds
# /usr/share/doc/PACKAGE/{copyright,changelog.gz}, the lintian overrides
# packaging/lintian-overrides.PACKAGE (each explained there), DEBIAN/control from packaging/PACKAGE.control
# (Depends: computed by dpkg-shlibdeps from the ELF files in the tree; nothing from the Swift
# toolchain, whose runtime is linked in), DEBIAN/conffiles (every file under /etc),
# the maintainer scripts packaging/PACKAGE.{postinst,prerm,postrm} when present, and
# DEBIAN/md5sums. Files are owned by root and dated by the last commit (SOURCE_DATE_EPOCH),
# so the same tree gives the same package. Prints nothing on success (make deb is quiet).
set -eu
package=${1:?usage: build-deb.sh PACKAGE STAGING VERSION OUTDIR}
root=${2:?staging directory}
version=${3:?version}
outdir=${4:?output directory}
here=$(cd "$(dirname "$0")" && pwd)

fail() { echo "build-deb.sh ($package): $*" >&2; exit 1; }
[ -d "$root/usr" ] || fail "$root/usr is missing: run make install-files DESTDIR=$root first"
echo "$version" | grep -Eq '^[0-9][A-Za-z0-9.+~]*$' \
  || fail "version '$version' (from Sources/ucwa-eventd/UCWAEventdCommand.swift) is not a Debian upstream version"
arch=$(dpkg --print-architecture)
: "${SOURCE_DATE_EPOCH:=$(git -C "$here/.." log -1 --format=%ct 2>/dev/null || date +%s)}"
export SOURCE_DATE_EPOCH

# The program's own --version must agree with the version the package is named after.
for program in "$root"/usr/bin/*; do
  if [ "$(basename "$program")" = ucwa-eventd ]; then
    printed=$("$program" --version) || fail "$program --version failed"
    [ "$printed" = "$version" ] || fail "$program --version prints '$printed', the package version is '$version'"
  fi
done

# Documentation Debian policy asks for: copyright, and (a native package) changelog.gz.
doc="$root/usr/share/doc/$package"
install -d -m 0755 "$doc"
install -m 0644 "$here/copyright" "$doc/copyright"
date=$(date -u -R -d "@$SOURCE_DATE_EPOCH")
maintainer=$(sed -n 's/^Maintainer: //p' "$here/$package.control")
printf '%s (%s) unstable; urgency=medium\n\n  * Release %s; the project'"'"'s git history lists the changes.\n\n -- %s  %s\n' \
  "$package" "$version" "$version" "$maintainer" "$date" | gzip -9n >"$doc/changelog.gz"
chmod 0644 "$doc/changelog.gz"
if [ -f "$here/lintian-overrides.$package" ]; then
  install -D -m 0644 "$here/lintian-overrides.$package" "$root/usr/share/lintian/overrides/$package"
fi

# Depends: from the ELF files' NEEDED entries. dpkg-shlibdeps wants a debian/control to exist.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/debian" "$root/DEBIAN"
: >"$work/debian/control"
rootpath=$(cd "$root" && pwd)
elves=$(find "$rootpath" -type f -perm -u+x -exec sh -c 'head -c 4 "$1" | grep -q "ELF"' _ {} \; -print)
[ -n "$elves" ] || fail "no program in $root"
# shellcheck disable=SC2086 # one argument per file; the paths hold no blanks
depends=$(cd "$work" && dpkg-shlibdeps -O $elves 2>"$work/shlibdeps.err" | sed -n 's/^shlibs:Depends=//p') \
  || fail "dpkg-shlibdeps failed: $(cat "$work/shlibdeps.err")"
[ -n "$depends" ] || fail "dpkg-shlibdeps found no dependencies: $(cat "$work/shlibdeps.err")"
case "$depends" in *swift*) fail "Depends names a Swift library ($depends): the runtime must be linked in" ;; esac

# Permissions as Debian has them; then the metadata.
find "$root" -type d -exec chmod 0755 {} +
find "$root" -type f ! -perm -u+x -exec chmod 0644 {} +
size=$(du -k -s --apparent-size --exclude=DEBIAN "$root" | cut -f1)
sed -e "s|@VERSION@|$version|" -e "s|@ARCH@|$arch|" -e "s|@INSTALLED_SIZE@|$size|" -e "s|@DEPENDS@|$depends|" \
  "$here/$package.control" >"$root/DEBIAN/control"
if [ -d "$root/etc" ]; then
  (cd "$root" && find etc -type f | sort | sed 's|^|/|') >"$root/DEBIAN/conffiles"
fi
for script in postinst prerm postrm; do
  if [ -f "$here/$package.$script" ]; then install -m 0755 "$here/$package.$script" "$root/DEBIAN/$script"; fi
done
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' | LC_ALL=C sort | xargs md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/md5sums"
[ ! -f "$root/DEBIAN/conffiles" ] || chmod 0644 "$root/DEBIAN/conffiles"
find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

mkdir -p "$outdir"
target="$outdir/${package}_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$target" >"$work/dpkg-deb.out" 2>&1 \
  || fail "dpkg-deb failed: $(cat "$work/dpkg-deb.out")"
