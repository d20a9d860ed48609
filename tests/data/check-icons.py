#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The app icons must be what the icon theme and GNOME's guidelines expect.

The full-colour icon: a 128×128 canvas. The symbolic icon: 16×16 and drawn only in #2e3436 fills
(GTK recolours that exact grey to the foreground colour; any other colour or a stroke would not
follow the theme). The patient page's favicon is a copy of the app icon. Both must render: rsvg-convert is what GNOME itself uses to load SVG icons.
"""

import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

SVG = '{http://www.w3.org/2000/svg}'
SHAPES = {'path', 'rect', 'circle', 'ellipse', 'polygon', 'polyline', 'line', 'use'}


def check_canvas(root, size, name, failures):
    if root.get('viewBox') != f'0 0 {size} {size}':
        failures.append(f'{name}: viewBox is {root.get("viewBox")!r}, expected "0 0 {size} {size}"')
    for attr in ('width', 'height'):
        if root.get(attr) != str(size):
            failures.append(f'{name}: {attr} is {root.get(attr)!r}, expected {size}')


def render(path, size, rsvg, failures):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, 'icon.png')
        r = subprocess.run([rsvg, '-w', str(size), '-h', str(size), path, '-o', out],
                           capture_output=True, text=True)
        if r.returncode != 0 or os.path.getsize(out) == 0:
            failures.append(f'{os.path.basename(path)} does not render: {r.stderr.strip()}')
        else:
            print(f'rendered {os.path.basename(path)} at {size}px')


def main():
    datadir, app_id, rsvg = sys.argv[1], sys.argv[2], sys.argv[3]
    full = os.path.join(datadir, 'icons/hicolor/scalable/apps', app_id + '.svg')
    symbolic = os.path.join(datadir, 'icons/hicolor/symbolic/apps', app_id + '-symbolic.svg')
    failures = []

    root = ET.parse(full).getroot()
    check_canvas(root, 128, 'scalable icon', failures)
    if not any(el.tag.replace(SVG, '') in SHAPES for el in root.iter()):
        failures.append('scalable icon draws nothing')

    root = ET.parse(symbolic).getroot()
    check_canvas(root, 16, 'symbolic icon', failures)
    drawn = 0
    for el in root.iter():
        tag = el.tag.replace(SVG, '')
        style = el.get('style', '')
        if el.get('stroke') not in (None, 'none') or re.search(r'stroke\s*:\s*(?!none)', style):
            failures.append(f'symbolic icon: <{tag}> uses a stroke; convert it to a filled path')
        if tag in SHAPES:
            drawn += 1
            fill = el.get('fill') or (re.search(r'fill\s*:\s*([^;]+)', style) or [None, None])[1]
            if (fill or '').lower() != '#2e3436':
                failures.append(f'symbolic icon: <{tag}> is filled {fill!r}, not #2e3436')
        if tag in ('linearGradient', 'radialGradient', 'image', 'text'):
            failures.append(f'symbolic icon: <{tag}> cannot be recoloured')
    if not drawn:
        failures.append('symbolic icon draws nothing')

    favicon = os.path.join(datadir, 'web', 'favicon.svg')
    with open(full, 'rb') as a, open(favicon, 'rb') as b:
        if a.read() != b.read():
            failures.append('data/web/favicon.svg differs from the app icon; copy the app icon over it')

    for path, size in ((full, 128), (full, 32), (symbolic, 16)):
        render(path, size, rsvg, failures)

    for failure in failures:
        print('FAIL: ' + failure)
    sys.exit(1 if failures else 0)


if __name__ == '__main__':
    main()
