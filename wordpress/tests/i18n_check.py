#!/usr/bin/env python3
"""The plugin's strings are translatable and its .pot is current (WP-CLI's `wp i18n make-pot`
is not available here, so the template is kept by hand and this keeps it honest).

Checks every gettext call in wordpress/echo5-leads (`__`, `_e`, `esc_html__`, `esc_html_e`,
`esc_attr__`, `esc_attr_e`, `_x`, `_n`, `_nx`) whose text is a literal: it names the text
domain `echo5-leads`, and its text is a msgid of languages/echo5-leads.pot; and every msgid of
the .pot is still used. Prints what is wrong and exits 1, or prints a count.
"""

import glob
import os
import re
import sys

PLUGIN = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "echo5-leads")
DOMAIN = "echo5-leads"
STRING = r"'((?:[^'\\]|\\.)*)'"
CALL = re.compile(r"\b(__|_e|esc_html__|esc_html_e|esc_attr__|esc_attr_e|_x|_n|_nx)\(\s*" + STRING)


def php_literal(s):
    return s.replace("\\'", "'").replace("\\\\", "\\")


def pot_ids(path):
    """msgid and msgid_plural texts of a .pot, continuation lines joined."""
    ids, current, key = set(), None, None
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        m = re.match(r'^(msgid|msgid_plural|msgstr(?:\[\d+\])?) "(.*)"$', line)
        if m:
            if key in ("msgid", "msgid_plural") and current:
                ids.add(current)
            key, current = m.group(1), m.group(2)
        elif line.startswith('"') and key:
            current += line[1:-1]
        else:
            if key in ("msgid", "msgid_plural") and current:
                ids.add(current)
            key, current = None, None
    if key in ("msgid", "msgid_plural") and current:
        ids.add(current)
    return {i.replace('\\"', '"').replace("\\\\", "\\") for i in ids}


def main():
    ids = pot_ids(os.path.join(PLUGIN, "languages", "echo5-leads.pot"))
    problems, used = [], set()
    for path in sorted(glob.glob(os.path.join(PLUGIN, "**", "*.php"), recursive=True)):
        text = open(path, encoding="utf-8").read()
        for m in CALL.finditer(text):
            fn, first = m.group(1), php_literal(m.group(2))
            line = text.count("\n", 0, m.start()) + 1
            where = f"{os.path.relpath(path, PLUGIN)}:{line}"
            # The call's literal arguments after the first: plural, context, domain.
            rest = text[m.end():m.end() + 2000]
            args = [php_literal(a) for a in re.findall(r"\s*,\s*" + STRING, rest[:rest.find(")") + 1] if ")" in rest else rest)]
            texts = [first]
            if fn in ("_n", "_nx") and args:
                texts.append(args[0])
            domain_ok = DOMAIN in args or re.match(r"\s*,[^;]*'" + DOMAIN + "'", rest[:400])
            if not domain_ok:
                problems.append(f"{where}: {fn}( '{first[:50]}' ) without the text domain '{DOMAIN}'")
            for t in texts:
                used.add(t)
                if t not in ids:
                    problems.append(f"{where}: '{t[:70]}' is not in languages/echo5-leads.pot")
    for stale in sorted(ids - used):
        problems.append(f"echo5-leads.pot: '{stale[:70]}' is used nowhere")
    for p in problems:
        print("i18n:", p)
    if problems:
        return 1
    print(f"i18n: {len(used)} strings, all in the .pot with the '{DOMAIN}' text domain")
    return 0


if __name__ == "__main__":
    sys.exit(main())
