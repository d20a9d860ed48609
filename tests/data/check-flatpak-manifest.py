#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Flatpak manifest must be valid, canonical JSON that builds this app.

Canonical means `python3 -m json.tool --indent 2 --no-ensure-ascii` reproduces the file byte for
byte, so hand edits keep one format. Beyond syntax, check what flatpak-builder would otherwise only
reject after minutes of building: the app id, runtime, command, that every module has sources
that pin what is built, and that the last module is this source tree.
"""

import json
import sys

RUNTIMES = {'org.gnome.Platform': 'org.gnome.Sdk'}


def main():
    path, app_id = sys.argv[1], sys.argv[2]
    with open(path, encoding='utf-8') as f:
        text = f.read()
    manifest = json.loads(text)  # a syntax error fails here with line and column

    failures = []
    canonical = json.dumps(manifest, indent=2, ensure_ascii=False) + '\n'
    if canonical != text:
        failures.append('not in canonical form; rewrite it with '
                        'python3 -m json.tool --indent 2 --no-ensure-ascii')

    if manifest.get('id') != app_id:
        failures.append(f'id is {manifest.get("id")!r}, expected {app_id!r}')
    runtime = manifest.get('runtime')
    if runtime not in RUNTIMES or manifest.get('sdk') != RUNTIMES.get(runtime):
        failures.append(f'runtime/sdk {runtime!r}/{manifest.get("sdk")!r} is not the GNOME runtime')
    try:
        if int(manifest.get('runtime-version', '0')) < 47:
            failures.append('runtime-version must be 47 or newer')
    except ValueError:
        failures.append(f'runtime-version {manifest.get("runtime-version")!r} is not a GNOME release')
    if manifest.get('command') != 'wenzhen':
        failures.append(f'command is {manifest.get("command")!r}, expected wenzhen')

    args = manifest.get('finish-args', [])
    for needed in ['--share=network', '--socket=wayland', '--socket=fallback-x11', '--socket=pulseaudio']:
        if needed not in args:
            failures.append(f'finish-args lacks {needed}')
    if '--socket=x11' in args:
        failures.append('use --socket=fallback-x11, not --socket=x11')
    if len(set(args)) != len(args):
        failures.append('finish-args has duplicates')

    modules = manifest.get('modules', [])
    names = [m.get('name') for m in modules if isinstance(m, dict)]
    if len(set(names)) != len(names):
        failures.append(f'module names are not unique: {names}')
    for module in modules:
        name = module.get('name')
        sources = module.get('sources', [])
        if not sources:
            failures.append(f'module {name} has no sources')
        for source in sources:
            kind = source.get('type')
            if kind == 'archive' and len(source.get('sha256', '')) != 64:
                failures.append(f'module {name}: archive without a sha256')
            elif kind == 'git' and not (source.get('tag') or source.get('commit')):
                failures.append(f'module {name}: git source without tag or commit')
    if not modules or modules[-1].get('name') != 'wenzhen':
        failures.append('the last module must be wenzhen')
    else:
        last = modules[-1]
        if last.get('buildsystem') != 'meson':
            failures.append('wenzhen must build with meson')
        if {'type': 'dir', 'path': '..'} not in last.get('sources', []):
            failures.append('wenzhen must build the source tree ({"type": "dir", "path": ".."})')

    print(f'{path}: {len(modules)} modules: {", ".join(names)}')
    for failure in failures:
        print('FAIL: ' + failure)
    sys.exit(1 if failures else 0)


if __name__ == '__main__':
    main()
