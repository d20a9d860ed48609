#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The built desktop entry and metainfo carry the Chinese translation and the project's version.

Catches a broken i18n.merge_file set-up (a zh_CN user would see an English launcher) and a
release that was tagged in meson.build but not described in the metainfo.
"""

import configparser
import sys
import xml.etree.ElementTree as ET

XML_LANG = '{http://www.w3.org/XML/1998/namespace}lang'


def main():
    desktop_path, metainfo_path, version = sys.argv[1:4]
    failures = []

    desktop = configparser.ConfigParser(interpolation=None, strict=False)
    desktop.optionxform = str
    desktop.read(desktop_path, encoding='utf-8')
    entry = desktop['Desktop Entry']
    expected = {'Name[zh_CN]': '问诊', 'GenericName[zh_CN]': '远程问诊'}
    for key, value in expected.items():
        if entry.get(key) != value:
            failures.append(f'desktop entry: {key} is {entry.get(key)!r}, expected {value!r}')
    keywords = entry.get('Keywords[zh_CN]', '')
    if '患者' not in keywords.split(';') or not keywords.endswith(';'):
        failures.append(f'desktop entry: Keywords[zh_CN] {keywords!r} lacks Chinese search terms')

    root = ET.parse(metainfo_path).getroot()
    names = {el.get(XML_LANG): el.text for el in root.findall('name')}
    if names.get('zh_CN') != '问诊':
        failures.append(f'metainfo: zh_CN name is {names.get("zh_CN")!r}')
    translated_paragraphs = [p for p in root.findall('description/p') if p.get(XML_LANG) == 'zh_CN']
    if not translated_paragraphs:
        failures.append('metainfo: the description has no zh_CN paragraphs')
    releases = root.findall('releases/release')
    if not releases or releases[0].get('version') != version:
        newest = releases[0].get('version') if releases else None
        failures.append(f'metainfo: newest release is {newest!r}, meson.build says {version!r}')

    print(f'desktop Name[zh_CN]={entry.get("Name[zh_CN]")!r}; metainfo releases: '
          + ', '.join(r.get('version') for r in releases))
    for failure in failures:
        print('FAIL: ' + failure)
    sys.exit(1 if failures else 0)


if __name__ == '__main__':
    main()
