"""Output is byte-identical across runs, hash seeds and working directories; the committed
generated/ is exactly what mfgen makes of asyncapi.yaml (the CI check); generation is fast."""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

from helpers import GOOD_SPECS, MFGEN, ROOT, SPECS, read_tree, run_mfgen

CONTRACT = os.path.join(ROOT, "asyncapi.yaml")


class DeterminismTest(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = tempfile.mkdtemp(prefix="mfgen-det-")

    def tearDown(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_identical_across_seeds_and_cwds(self) -> None:
        for rel, prefix in [("../../asyncapi.yaml", "mf")] + GOOD_SPECS:
            spec = os.path.normpath(os.path.join(SPECS, rel))
            with self.subTest(spec=rel):
                a = os.path.join(self.tmp, prefix + "-a")
                b = os.path.join(self.tmp, prefix + "-b")
                ra = run_mfgen([spec, "-o", a, "--prefix", prefix], cwd=ROOT, env={"PYTHONHASHSEED": "0"})
                os.makedirs(os.path.join(self.tmp, "elsewhere"), exist_ok=True)
                rb = run_mfgen([os.path.relpath(spec, os.path.join(self.tmp, "elsewhere")), "-o", b,
                                "--prefix", prefix], cwd=os.path.join(self.tmp, "elsewhere"),
                               env={"PYTHONHASHSEED": "4242"})
                self.assertEqual(ra.returncode, 0, ra.stderr)
                self.assertEqual(rb.returncode, 0, rb.stderr)
                ta, tb = read_tree(a), read_tree(b)
                self.assertEqual(sorted(ta), sorted(tb))
                for k in ta:
                    self.assertEqual(ta[k], tb[k], k)
                r = run_mfgen([spec, "-o", a, "--prefix", prefix, "--check"], env={"PYTHONHASHSEED": "7"})
                self.assertEqual(r.returncode, 0, r.stdout)

    def test_identical_across_interpreters(self) -> None:
        """Debian's python3 (its own PyYAML/Jinja2 versions) and the current one agree."""
        other = "/usr/bin/python3"
        if not os.path.exists(other) or os.path.realpath(other) == os.path.realpath(sys.executable):
            self.skipTest("no second Python interpreter")
        if subprocess.run([other, "-c", "import yaml, jinja2"], capture_output=True).returncode != 0:
            self.skipTest(f"{other} lacks PyYAML/Jinja2")
        a, b = os.path.join(self.tmp, "a"), os.path.join(self.tmp, "b")
        for rel, prefix in [("../../asyncapi.yaml", "mf")] + GOOD_SPECS:
            spec = os.path.normpath(os.path.join(SPECS, rel))
            ra = run_mfgen([spec, "-o", os.path.join(a, prefix), "--prefix", prefix])
            rb = subprocess.run([other, MFGEN, spec, "-o", os.path.join(b, prefix), "--prefix", prefix],
                                capture_output=True, text=True)
            self.assertEqual((ra.returncode, rb.returncode), (0, 0), ra.stderr + rb.stderr)
        self.assertEqual(read_tree(a), read_tree(b))

    def test_committed_generated_is_fresh(self) -> None:
        """CI: generated/ must equal a fresh generation of asyncapi.yaml."""
        r = run_mfgen([CONTRACT, "-o", os.path.join(ROOT, "generated"), "--check"])
        self.assertEqual(r.returncode, 0,
                         "generated/ is stale: run generator/mfgen asyncapi.yaml -o generated\n" + r.stdout)


def synth_spec(n_messages: int, n_enums: int) -> str:
    out = ["asyncapi: 3.0.0", "info: {title: Synth, version: 1.0.0}", "channels:"]
    for i in range(n_messages):
        out += [f"  ch{i}:", f"    address: synth.{{id}}.m{i}", "    parameters:", "      id: {x-format: uuid}",
                "    messages:", f"      Msg{i}: {{$ref: '#/components/messages/Msg{i}'}}"]
    out.append("operations:")
    for i in range(n_messages):
        out += [f"  send{i}:", "    action: send", f"    x-service: svc{i % 5}",
                f"    channel: {{$ref: '#/channels/ch{i}'}}"]
    out += ["components:", "  messages:"]
    for i in range(n_messages):
        out += [f"    Msg{i}:", f"      payload: {{$ref: '#/components/schemas/Msg{i}'}}",
                "      examples:", "        - name: ex", f"          payload: {{id: {i}, kind: v0}}"]
    out.append("  schemas:")
    for i in range(n_enums):
        out += [f"    Enum{i}:", "      type: string", "      enum: [" + ", ".join(f"v{j}" for j in range(8)) + "]"]
    for i in range(n_messages):
        out += [f"    Msg{i}:", "      type: object", "      required: [id, kind]", "      properties:",
                "        id: {type: integer, minimum: 0}", f"        kind: {{$ref: '#/components/schemas/Enum{i % n_enums}'}}",
                "        name: {type: string, maxLength: 64, pattern: '^[a-z]+$'}",
                "        at: {type: string, format: date-time}",
                "        tags: {type: array, items: {type: string}}",
                "        extra: {type: object, additionalProperties: {type: number}}",
                "        nested:", "          type: object", "          properties:",
                "            a: {type: boolean, default: true}",
                "            b: {type: string, enum: [x, y, z]}"]
    return "\n".join(out) + "\n"


class SpeedTest(unittest.TestCase):
    def test_50_messages_50_enums(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            spec = os.path.join(tmp, "synth.yaml")
            with open(spec, "w") as f:
                f.write(synth_spec(50, 50))
            t0 = time.monotonic()
            r = run_mfgen([spec, "-o", os.path.join(tmp, "out"), "-q"])
            dt = time.monotonic() - t0
            self.assertEqual(r.returncode, 0, r.stderr)
            print(f"\n[mfgen speed] 50 messages + 50 enums: {dt:.2f} s (process start included)")
            self.assertLess(dt, 5.0)


if __name__ == "__main__":
    unittest.main()
