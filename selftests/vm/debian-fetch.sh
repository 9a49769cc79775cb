#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Download and unpack a Debian binary package from any suite, without
# touching the machine's apt sources (see debian-apt.sh).
#
# usage: debian-fetch.sh SUITE PACKAGE DESTDIR
#   Unpacks PACKAGE (dpkg -x) into DESTDIR; does nothing if DESTDIR/.done exists.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
suite=$1 pkg=$2 dest=$3

[ -e "$dest/.done" ] && exit 0

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# pkg/suite: the version in that suite, even if the machine has another installed.
(cd "$work" && "$here/debian-apt.sh" "$suite" apt-get download "$pkg/$suite" >/dev/null)
mkdir -p "$dest"
dpkg -x "$work"/*.deb "$dest"
touch "$dest/.done"
