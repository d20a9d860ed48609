#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Check that one catalogue translates every string the sources currently contain.

Extracts a fresh template from po/POTFILES.in (the same xgettext arguments as po/meson.build),
merges the catalogue into it in a temporary directory and fails on any untranslated or fuzzy
message, listing them. This also catches strings that were added to the sources but never
merged into the .po file, which `msgfmt --statistics` on the file alone would miss.
"""

import os
import re
import subprocess
import sys
import tempfile


def read_potfiles(srcdir):
    with open(os.path.join(srcdir, 'po', 'POTFILES.in'), encoding='utf-8') as f:
        return [line.strip() for line in f
                if line.strip() and not line.lstrip().startswith('#')]


def entries(po_text):
    """Yield (flags, msgid, msgstr) of every entry except the header."""
    for block in po_text.split('\n\n'):
        flags = ''
        fields = {}
        current = None
        for line in block.splitlines():
            if line.startswith('#,'):
                flags += line
            elif line.startswith('#'):
                continue
            else:
                m = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) "(.*)"$', line)
                if m:
                    current = m.group(1)
                    fields[current] = m.group(2)
                elif line.startswith('"') and current:
                    fields[current] += line[1:-1]
        if fields.get('msgid'):
            strs = [v for k, v in fields.items() if k.startswith('msgstr')]
            yield flags, fields['msgid'], strs


def main():
    if len(sys.argv) < 3:
        sys.exit('usage: check-po.py SOURCE_ROOT LANG [XGETTEXT_ARG…]')
    srcdir, lang, xgettext_args = sys.argv[1], sys.argv[2], sys.argv[3:]
    po_path = os.path.join(srcdir, 'po', lang + '.po')

    with tempfile.TemporaryDirectory() as tmp:
        pot = os.path.join(tmp, 'wenzhen.pot')
        merged = os.path.join(tmp, lang + '.po')
        subprocess.run(['xgettext', '--package-name=wenzhen', '-D', srcdir, '-o', pot,
                        *xgettext_args, *read_potfiles(srcdir)], check=True)
        subprocess.run(['msgmerge', '--quiet', '--no-fuzzy-matching', '-o', merged, po_path, pot],
                       check=True)
        stats = subprocess.run(['msgfmt', '-c', '--statistics', '-o', os.devnull, merged],
                               capture_output=True, text=True)
        print(stats.stdout + stats.stderr, end='')
        if stats.returncode != 0:
            sys.exit(f'{lang}.po: msgfmt -c failed')
        with open(merged, encoding='utf-8') as f:
            text = f.read()

    problems = []
    for flags, msgid, msgstrs in entries(text):
        if 'fuzzy' in flags:
            problems.append(f'fuzzy: {msgid!r}')
        elif not all(msgstrs):
            problems.append(f'untranslated: {msgid!r}')
    if problems:
        print(f'{lang}.po is incomplete ({len(problems)} messages):')
        for p in problems:
            print('  ' + p)
        sys.exit(1)
    print(f'{lang}.po translates every message in the sources')


if __name__ == '__main__':
    main()
