"""Interop check (not run in CI): the sentencepiece package reloads the spiece.model that
`ckpt prune --vocab spiece.model --keep-tokens keep.txt` writes, and it is the model
Fixtures/spm/golden.json expects (made by sentencepiece itself, see Fixtures/README.md "spm/").

Usage: python Tests/interop/spm_reload.py CKPT_BINARY
       (any Python with `pip install sentencepiece`; protobuf is optional, TensorFlow is not used)

Prunes Fixtures/families/t5.1.1 (vocabulary 64 = the 64 pieces of Fixtures/spm/spiece.model) to
keep.txt, then checks the written TMP/spiece.model: pieces, scores and types equal golden.json's
`pruned.pieces` (control/unknown pieces first in their original order, then keep.txt's order);
unk_id/pad_id/eos_id/bos_id; every golden text encodes to the same piece strings as with the
original model, to ids = the new positions of those pieces, and decodes back. Prints one line per
check and `N passed, M failed`; exits 1 on any failure.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import sentencepiece as spm

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPM = os.path.join(ROOT, "Fixtures", "spm")
T5 = os.path.join(ROOT, "Fixtures", "families", "t5.1.1")
TYPE_NAMES = {1: "NORMAL", 2: "UNKNOWN", 3: "CONTROL", 4: "USER_DEFINED", 5: "UNUSED", 6: "BYTE"}


def model_proto_class():
    """sentencepiece's own ModelProto schema, or None without protobuf. The package's
    sentencepiece_model_pb2 needs a recent protobuf at import; with an older one the message class
    is built from the serialized file descriptor that module carries."""
    try:
        from sentencepiece import sentencepiece_model_pb2
        return sentencepiece_model_pb2.ModelProto
    except ImportError:
        pass
    try:
        import ast
        from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
    except ImportError:
        return None
    path = os.path.join(os.path.dirname(spm.__file__), "sentencepiece_model_pb2.py")
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    blob = next(node.args[0].value for node in ast.walk(tree)
                if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "AddSerializedFile")
    pool = descriptor_pool.DescriptorPool()
    pool.Add(descriptor_pb2.FileDescriptorProto.FromString(blob))
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("sentencepiece.ModelProto"))


def api_type(sp, i):
    """The type as far as the processor tells (NORMAL and USER_DEFINED look the same: 1)."""
    if sp.is_control(i):
        return 3
    if sp.is_unknown(i):
        return 2
    if sp.is_unused(i):
        return 5
    if sp.is_byte(i):
        return 6
    return 1


def main(ckpt):
    results = []

    def check(name, ok, detail=""):
        results.append(bool(ok))
        print("%-4s %s%s" % ("ok" if ok else "FAIL", name, "" if ok or not detail else ": " + detail),
              flush=True)
        return ok

    with open(os.path.join(SPM, "golden.json"), encoding="utf-8") as f:
        golden = json.load(f)
    expected = golden["pruned"]["pieces"]
    specials = golden["pruned"]["special_ids"]
    tmp = tempfile.mkdtemp(prefix="ckpt-spm-")
    out = os.path.join(tmp, "out")
    try:
        args = [ckpt, "prune", T5, "--to", out, "--vocab", os.path.join(SPM, "spiece.model"),
                "--keep-tokens", os.path.join(SPM, "keep.txt")]
        p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        check("ckpt prune families/t5.1.1 --vocab spm/spiece.model --keep-tokens spm/keep.txt "
              "(exit %d)" % p.returncode, p.returncode == 0, p.stdout.strip()[-2000:])
        path = os.path.join(out, "spiece.model")
        if not check("%s/spiece.model written" % os.path.basename(out), os.path.isfile(path)):
            return finish(results)
        sp = spm.SentencePieceProcessor()
        try:
            sp.load(path)
            loaded = True
        except Exception as e:  # noqa: BLE001 - any load error is the failure being reported
            loaded = False
            check("sentencepiece loads spiece.model", False, "%s: %s" % (type(e).__name__, e))
        if not loaded:
            return finish(results)
        check("sentencepiece loads spiece.model", True)
        orig = spm.SentencePieceProcessor(model_file=os.path.join(SPM, "spiece.model"))

        n = sp.get_piece_size()
        check("piece count %d (expected %d)" % (n, len(expected)), n == len(expected))
        got = [sp.id_to_piece(i) for i in range(n)]
        want = [e["piece"] for e in expected]
        bad = [i for i in range(max(n, len(want))) if i >= n or i >= len(want) or got[i] != want[i]]
        check("pieces in expected order (first %s)" % " ".join(want[:6]), not bad,
              "first mismatch at id %s: %r vs expected %r" % (
                  bad[0], got[bad[0]] if bad and bad[0] < n else None,
                  want[bad[0]] if bad and bad[0] < len(want) else None) if bad else "")
        m = min(n, len(expected))
        bad = [i for i in range(m) if sp.get_score(i) != expected[i]["score"]]
        check("scores equal the original pieces' scores (exact float32)", not bad,
              "ids %s" % bad[:8])

        ModelProto = model_proto_class()
        if ModelProto is not None:
            with open(path, "rb") as f:
                proto = ModelProto.FromString(f.read())
            with open(os.path.join(SPM, "spiece.model"), "rb") as f:
                orig_proto = ModelProto.FromString(f.read())
            types = [p.type for p in proto.pieces]
            how = "from the ModelProto"
        else:
            proto = None
            types = [api_type(sp, i) for i in range(n)]
            how = "from the processor API only (no protobuf: USER_DEFINED reads as NORMAL)"
        want_types = [e["type"] if ModelProto is not None or e["type"] != 4 else 1 for e in expected]
        bad = [i for i in range(m) if types[i] != want_types[i]]
        check("types equal (%s)" % how, not bad and len(types) == len(expected),
              ", ".join("id %d %s vs %s" % (i, TYPE_NAMES.get(types[i]), TYPE_NAMES.get(want_types[i]))
                        for i in bad[:6]))
        if proto is not None:
            check("normalizer_spec unchanged (nmt_nfkc, precompiled_charsmap %d bytes)"
                  % len(orig_proto.normalizer_spec.precompiled_charsmap),
                  proto.normalizer_spec == orig_proto.normalizer_spec)
            check("denormalizer_spec unchanged", proto.denormalizer_spec == orig_proto.denormalizer_spec)

        for name in ("unk_id", "pad_id", "eos_id", "bos_id"):
            value = getattr(sp, name)()
            check("%s() = %d (expected %d)" % (name, value, specials[name]), value == specials[name])
        check("id_to_piece(unk_id()) = <unk>", sp.id_to_piece(sp.unk_id()) == "<unk>"
              if sp.unk_id() >= 0 else False)
        new_id = {e["piece"]: e["id"] for e in expected}
        for t in golden["texts"]:
            text, pieces = t["text"], t["pieces"]
            before = orig.encode(text, out_type=str)
            after = sp.encode(text, out_type=str)
            ids = sp.encode(text)
            want_ids = [new_id.get(x, -1) for x in pieces]
            ok = before == pieces and after == pieces and ids == want_ids == t["pruned_ids"]
            ok = ok and sp.decode(ids) == text
            check("encode %r -> %s" % (text, " ".join(after)), ok,
                  "original %s, pruned %s, ids %s (expected %s), decode %r"
                  % (before, after, ids, want_ids, sp.decode(ids)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return finish(results)


def finish(results):
    passed = sum(results)
    failed = len(results) - passed
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
