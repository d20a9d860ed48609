#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""po/POTFILES.in must list existing files only, and every file with translatable strings.

A file counts as translatable when it is a C source or header with a gettext call on a string
literal (_ ("…"), N_, C_, NC_, g_dngettext), or a GtkBuilder .ui file with translatable="yes".
The app (src/app), the shared core (src/core) and the data folder (data/, e.g. data/ui) are
searched; the server's texts are English by design and are not translated.
"""

import os
import re
import sys

GETTEXT_CALL = re.compile(r'(?<![\w])(?:_|N_|C_|NC_|g_dngettext)\s*\(\s*(?:"|[A-Za-z_]\w*\s*,\s*")')
UI_TRANSLATABLE = re.compile(r'translatable\s*=\s*"(?:yes|true|1)"')
SEARCHED = ['src/app', 'src/core', 'data']


def needs_translation(path):
    with open(path, encoding='utf-8', errors='replace') as f:
        text = f.read()
    if path.endswith('.ui'):
        return bool(UI_TRANSLATABLE.search(text))
    return bool(GETTEXT_CALL.search(text))


def main():
    srcdir = sys.argv[1]
    with open(os.path.join(srcdir, 'po', 'POTFILES.in'), encoding='utf-8') as f:
        listed = [line.strip() for line in f
                  if line.strip() and not line.lstrip().startswith('#')]

    failures = []
    for path in listed:
        if not os.path.isfile(os.path.join(srcdir, path)):
            failures.append(f'po/POTFILES.in lists {path}, which does not exist')
    dupes = sorted({p for p in listed if listed.count(p) > 1})
    for path in dupes:
        failures.append(f'po/POTFILES.in lists {path} more than once')

    found = []
    for top in SEARCHED:
        for root, dirs, files in os.walk(os.path.join(srcdir, top)):
            dirs[:] = sorted(d for d in dirs if d != 'web')  # the patient page has its own JS dictionary
            for name in sorted(files):
                if name.endswith(('.c', '.h', '.ui')):
                    full = os.path.join(root, name)
                    rel = os.path.relpath(full, srcdir)
                    if needs_translation(full):
                        found.append(rel)
                        if rel not in listed:
                            failures.append(f'{rel} has translatable strings but is not in po/POTFILES.in')

    print(f'{len(listed)} files listed, {len(found)} source files with translatable strings found')
    for f in failures:
        print('FAIL: ' + f)
    sys.exit(1 if failures else 0)


if __name__ == '__main__':
    main()
