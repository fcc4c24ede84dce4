"""The layering of src/ is the one declared in src/layers.txt: every #include of src/ and include/
is checked against it (kvsd folders and third-party libraries), and the checker itself is shown to
refuse what it must (an http file including storage, media including FFmpeg, a folder missing
from the file).

The build enforces the same graph for kvsd folders (cmake/Layers.cmake links each library to its
line only, so a forbidden header is not on the include path); this test also covers edges the
compiler cannot see (a folder reached only through another library's public links, third-party
headers, which are on every include path).
"""

import os
import re
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
LAYERS_FILE = os.path.join(ROOT, "src", "layers.txt")

# Third-party names of layers.txt -> the include prefixes they stand for.
THIRD_PARTY = {
    "boost": ("boost/",),
    "nghttp2": ("nghttp2/",),
    "openssl": ("openssl/",),
    "spdlog": ("spdlog/", "fmt/"),
    "nlohmann": ("nlohmann/",),
    "rocksdb": ("rocksdb/",),
    "protobuf": ("google/protobuf/",),
    "ffmpeg": ("libavcodec/", "libavformat/", "libavutil/", "libswscale/", "libswresample/", "libavfilter/"),
    "toml++": ("toml++/",),
}
QUOTED = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
ANGLED = re.compile(r"^\s*#\s*include\s+<([^>]+)>")


def parse_layers(text):
    """{layer: (set of kvsd folders, set of third-party names)}, in file order."""
    layers = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.fullmatch(r"([a-z+]+):([^|]*)(?:\|(.*))?", line)
        if not m:
            raise ValueError(f"layers.txt:{number}: not '<folder>: <folders> | <third party>': {raw!r}")
        name, uses, externals = m.group(1), m.group(2).split(), (m.group(3) or "").split()
        for use in uses:
            if use not in layers:
                raise ValueError(f"layers.txt:{number}: {name} uses {use}, which is not listed above it")
        for ext in externals:
            if ext not in THIRD_PARTY:
                raise ValueError(f"layers.txt:{number}: unknown third-party name {ext!r}")
        layers[name] = (set(uses), set(externals))
    return layers


def layer_of(relpath):
    """The layer a repository file belongs to, or None when layers.txt does not govern it."""
    parts = relpath.split("/")
    if parts[0] == "include" and len(parts) >= 3:
        return parts[1]
    if parts[0] == "src":
        if parts[1:] == ["main.cpp"]:
            return "main"
        if len(parts) >= 3:
            return parts[1]
    return None


def violations(layers, files):
    """files: {relpath: text}. Returns a list of 'path:line: message'."""
    found = []
    for path, text in sorted(files.items()):
        layer = layer_of(path)
        if layer is None:
            continue
        if layer not in layers:
            found.append(f"{path}: folder {layer!r} has no line in src/layers.txt")
            continue
        uses, externals = layers[layer]
        for number, line in enumerate(text.splitlines(), 1):
            m = QUOTED.match(line)
            if m:
                target = m.group(1)
                if "/" not in target:
                    if not target.endswith(".pb.h"):
                        found.append(f"{path}:{number}: include {target!r} by folder ('<folder>/{target}')")
                    elif "protobuf" not in externals:
                        found.append(f"{path}:{number}: {layer} may not include generated protobuf {target!r}")
                    continue
                folder = target.split("/", 1)[0]
                if folder != layer and folder not in uses:
                    found.append(f"{path}:{number}: {layer} may not include {target!r} (src/layers.txt)")
                continue
            m = ANGLED.match(line)
            if m:
                target = m.group(1)
                for name, prefixes in THIRD_PARTY.items():
                    if target.startswith(prefixes) and name not in externals:
                        found.append(f"{path}:{number}: {layer} may not include <{target}> ({name}; src/layers.txt)")
    return found


def repository_files():
    files = {}
    for top in ("src", "include"):
        for dirpath, _, names in os.walk(os.path.join(ROOT, top)):
            for name in names:
                if name.endswith((".hpp", ".cpp", ".h")):
                    full = os.path.join(dirpath, name)
                    with open(full, encoding="utf-8") as f:
                        files[os.path.relpath(full, ROOT)] = f.read()
    return files


class IncludeRules(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(LAYERS_FILE, encoding="utf-8") as f:
            cls.layers = parse_layers(f.read())
        cls.files = repository_files()

    def test_every_include_of_src_and_include_follows_the_layers(self):
        self.assertGreater(len(self.files), 150, "the walk found the sources")
        problems = violations(self.layers, self.files)
        self.assertEqual(problems, [], "\n".join(problems))

    def test_every_src_folder_is_a_layer_built_by_kvsd_layer(self):
        folders = sorted(d for d in os.listdir(os.path.join(ROOT, "src")) if os.path.isdir(os.path.join(ROOT, "src", d)))
        with open(os.path.join(ROOT, "src", "CMakeLists.txt"), encoding="utf-8") as f:
            cmake = f.read()
        for folder in folders:
            self.assertIn(folder, self.layers, f"src/{folder} has no line in src/layers.txt")
            self.assertRegex(cmake, rf"kvsd_layer\({re.escape(folder)}\b", f"src/{folder} is not built by kvsd_layer")

    def test_media_and_the_heavy_libraries_stay_where_the_design_puts_them(self):
        self.assertEqual(self.layers["media"], (set(), set()), "media: standard library only")
        owners = {name: [l for l, (_, ext) in self.layers.items() if name in ext] for name in ("ffmpeg", "rocksdb")}
        self.assertEqual(owners["ffmpeg"], ["av"])
        self.assertEqual(owners["rocksdb"], ["storage"])
        self.assertNotIn("storage", self.layers["api"][0], "api sees interfaces, not storage")
        self.assertNotIn("app", set().union(*(uses for l, (uses, _) in self.layers.items() if l not in ("main",))))

    # ---- the checker refuses what it must -------------------------------------------------------

    def check_one(self, path, text):
        return violations(self.layers, {path: text})

    def test_an_http_file_including_storage_is_refused(self):
        problems = self.check_one("src/http/router.cpp", '#include "http/router.hpp"\n#include "storage/database.hpp"\n')
        self.assertEqual(len(problems), 1)
        self.assertIn("src/http/router.cpp:2: http may not include 'storage/database.hpp'", problems[0])

    def test_a_folder_reached_only_through_another_is_refused(self):
        # net links http, which links exec (so the compiler would find exec's headers); net's
        # own line does not name exec.
        self.assertIn("exec", self.layers["http"][0])
        self.assertNotIn("exec", self.layers["net"][0])
        self.assertEqual(len(self.check_one("src/net/listener.cpp", '#include "exec/offload.hpp"\n')), 1)

    def test_third_party_headers_outside_their_layers_are_refused(self):
        self.assertEqual(len(self.check_one("src/media/x.cpp", "#include <libavformat/avformat.h>\n")), 1)
        self.assertEqual(len(self.check_one("src/api/x.cpp", "#include <rocksdb/db.h>\n")), 1)
        self.assertEqual(len(self.check_one("src/http/x.cpp", "#include <fmt/format.h>\n")), 0)
        self.assertEqual(self.check_one("src/media/x.cpp", "#include <vector>\n#include <sys/types.h>\n"), [])

    def test_a_folder_missing_from_the_file_is_refused(self):
        self.assertEqual(self.check_one("src/newthing/a.cpp", "int x;\n"),
                         ["src/newthing/a.cpp: folder 'newthing' has no line in src/layers.txt"])

    def test_the_file_itself_is_checked(self):
        with self.assertRaisesRegex(ValueError, "not listed above it"):
            parse_layers("media: http\nhttp:\n")
        with self.assertRaisesRegex(ValueError, "unknown third-party"):
            parse_layers("media: | qt\n")


if __name__ == "__main__":
    unittest.main()
