#!/usr/bin/env python3
"""Lists the longest function bodies of src/ (lines from the signature's opening brace to its
closing brace), longest first: `scripts/function-lengths.py [N] [paths...]` (default 15, src).

A heuristic for this code base's clang-format style: a definition starts at column 0 (namespace
bodies are not indented) or, inside a class body, at column 2, ends its head with '{', and ends
at the '}' at the same column. Braces inside string and character literals and comments are
skipped. Good enough to rank functions, not a C++ parser.
"""

import os
import re
import sys

NOT_FUNCTIONS = re.compile(r"^\s*(namespace|struct|class|enum|union|extern|template\s*<[^>]*>\s*(struct|class))\b")


def strip(line, in_comment):
    """The line without comments and literals (so braces in them do not count)."""
    out = []
    i = 0
    while i < len(line):
        if in_comment:
            end = line.find("*/", i)
            if end < 0:
                return "".join(out), True
            i, in_comment = end + 2, False
        elif line.startswith("//", i):
            break
        elif line.startswith("/*", i):
            in_comment = True
            i += 2
        elif line[i] in "\"'":
            quote = line[i]
            i += 1
            while i < len(line) and line[i] != quote:
                i += 2 if line[i] == "\\" else 1
            i += 1
        else:
            out.append(line[i])
            i += 1
    return "".join(out), in_comment


def functions(path):
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    found = []
    in_comment = False
    head = []  # lines of a signature in progress
    i = 0
    while i < len(lines):
        code, in_comment = strip(lines[i], in_comment)
        indent = len(lines[i]) - len(lines[i].lstrip(" "))
        starts = indent in (0, 2) and code.strip() and not NOT_FUNCTIONS.match(code)
        if starts or head:
            head.append(code)
            text = " ".join(head)
            if code.rstrip().endswith(";") or code.rstrip().endswith("}") and text.count("{") == text.count("}"):
                head = []
            elif code.rstrip().endswith("{") and "(" in text and "=" not in text.split("(")[0]:
                depth = code.count("{") - code.count("}")
                start = i
                j = i + 1
                while j < len(lines) and depth > 0:
                    c, in_comment = strip(lines[j], in_comment)
                    depth += c.count("{") - c.count("}")
                    j += 1
                name = re.search(r"([A-Za-z_][\w:~<>]*)\s*\(", text)
                found.append((j - start, name.group(1) if name else "?", start + 1))
                head = []
                i = j
                continue
            elif len(head) > 6:
                head = []
        i += 1
    return found


def main():
    args = sys.argv[1:]
    count = int(args.pop(0)) if args and args[0].isdigit() else 15
    roots = args or ["src"]
    rows = []
    for root in roots:
        for dirpath, _, names in os.walk(root):
            for name in names:
                if name.endswith(".cpp") or name.endswith(".hpp"):
                    path = os.path.join(dirpath, name)
                    rows += [(n, fn, f"{path}:{line}") for n, fn, line in functions(path)]
    for n, fn, where in sorted(rows, reverse=True)[:count]:
        print(f"{n:5d}  {fn}  {where}")


if __name__ == "__main__":
    main()
