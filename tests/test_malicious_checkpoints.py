"""Malicious and malformed checkpoints: each is refused in one line, before anything loads it.

A checkpoint folder is untrusted input. One good tiny pipeline is built per module; each test damages a
copy of it the way an attacker (or a hand edit) would, and runs ``argmine mine ... --checkpoint BAD``:

    custom code     an ``auto_map`` in config.json / tokenizer_config.json / adapter_config.json, beside a
                    ``.py`` file that writes a marker when imported; a prompt is answered "y", as a user might
    pickle weights  ``pytorch_model.bin`` / ``model.pkl`` in place of the safetensors
    foreign encoder ``base_encoder`` naming a folder of the checkpoint's choosing, ``base_sha256`` null
    JSON types      argmine.json, its settings and training, the transformers configs, features.json
    max_length      beyond the encoder's position embeddings
    NaN weights     in the segmenter's adapter, a full stance model, the scikit-learn baseline

Each must exit 2 with one line naming the file and field, print nothing on stdout, ask nothing, and never
write the marker. Before these checks each of them loaded silently, ran the code, read the pickle,
ended in a traceback, or failed with a line that named neither the file nor the field.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import pickle
import shutil
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.numpy import load_file as load_numpy, save_file as save_numpy
from safetensors.torch import load_file, save_file
from tiny_models import (
    STANCE_LABELS,
    TEXTS,
    build_encoder,
    build_segmenter,
    build_stance,
    edit_meta,
    mine_cli,
)

from argmine.checkpoint import META_FILE, encoder_fingerprint
from argmine.errors import CheckpointError
from argmine.pipeline import ArgumentMiner
from argmine.segmenter.model import Segmenter
from argmine.stance.baseline import SklearnStanceClassifier
from argmine.stance.transformer import TransformerStanceClassifier
from argmine.thread import Comment, Post, Thread

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(autouse=True)
def keep_torch_threads(monkeypatch):
    monkeypatch.setattr("argmine.runtime.use_cpu_threads", lambda n=None: 1)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    """The tiny encoder and three good pipelines: LoRA stance, full fine-tuned stance, scikit-learn stance."""
    root = tmp_path_factory.mktemp("malicious")
    encoder = build_encoder(root / "encoder")
    segmenter = build_segmenter(encoder).save_pretrained(root / "segmenter")
    stances = {
        "lora": build_stance(encoder).save_pretrained(root / "stance-lora"),
        "full": TransformerStanceClassifier.create(
            STANCE_LABELS, encoder=encoder, finetune="full", max_length=64, post_reserve=8, parent_reserve=6
        ).save_pretrained(root / "stance-full"),
        "sklearn": SklearnStanceClassifier.fit(
            [(TEXTS[0], text) for text in TEXTS] * 3, list(STANCE_LABELS) * 4, STANCE_LABELS
        ).save_pretrained(root / "stance-sklearn"),
    }
    out = {"encoder": encoder}
    for name, stance in stances.items():
        out[name] = ArgumentMiner.from_parts(segmenter, stance).save_pretrained(root / f"pipeline-{name}")
        ArgumentMiner.from_pretrained(out[name])  # the undamaged copy loads
    thread = Thread(
        id="t",
        post=Post(id="p", author="op", text=TEXTS[0]),
        comments=[Comment(id="c", author="u", reply_to="p", text=" ".join(TEXTS * 8))],  # longer than a window
    )
    out["thread"] = root / "thread.jsonl"
    out["thread"].write_text(json.dumps(thread.to_dict()) + "\n", encoding="utf-8")
    return out


@pytest.fixture()
def prompts(monkeypatch) -> list[str]:
    """Every prompt shown on input(), each answered "y" (so checkpoint code, if offered, would run)."""
    asked: list[str] = []

    def answer(prompt: str = "") -> str:
        asked.append(prompt)
        return "y"

    monkeypatch.setattr(builtins, "input", answer)
    return asked


def copy_of(built: dict[str, Path], tmp_path: Path, kind: str = "lora") -> Path:
    return Path(shutil.copytree(built[kind], tmp_path / "bad"))


def refused(capsys, built: dict[str, Path], checkpoint: Path, *expected: str) -> str:
    """``argmine mine`` on ``checkpoint``: exit 2, nothing on stdout, one stderr line holding each ``expected``."""
    code, out, err = mine_cli([str(built["thread"]), "--checkpoint", str(checkpoint)], capsys)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, (code, err[-2000:])
    assert out == "" and "Traceback" not in err
    assert len(lines) == 1, err[-2000:]
    assert lines[0].startswith("argmine mine: error: ")
    for part in expected:
        assert part in lines[0], lines[0]
    return lines[0]


def edit_json(path: Path, change) -> None:
    """``change(data)`` returns the new content of the JSON file ``path``."""
    data = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps(change(data)), encoding="utf-8")


def updated(**changes):
    return lambda data: {**data, **changes}


def plant_code(folder: Path, marker: Path) -> None:
    """A module that writes ``marker`` when imported, with the classes an auto_map below names."""
    (folder / "evil.py").write_text(
        "from pathlib import Path\n"
        f"Path({str(marker)!r}).write_text('checkpoint code ran')\n"
        "from transformers import BertConfig as EvilConfig, BertModel as EvilModel\n"
        "from transformers import BertForTokenClassification as EvilTokenClassifier\n"
        "from transformers import BertForSequenceClassification as EvilClassifier\n"
        "from transformers import BertTokenizer as EvilTokenizer\n",
        encoding="utf-8",
    )


MODEL_AUTO_MAP = {
    "AutoConfig": "evil.EvilConfig",
    "AutoModel": "evil.EvilModel",
    "AutoModelForTokenClassification": "evil.EvilTokenClassifier",
    "AutoModelForSequenceClassification": "evil.EvilClassifier",
}


def foreign_encoder(built: dict[str, Path], tmp_path: Path) -> Path:
    """A copy of the tiny encoder outside the checkpoint, with the same weights (so the same fingerprint)."""
    return Path(shutil.copytree(built["encoder"], tmp_path / "foreign-encoder"))


# -- custom code ---------------------------------------------------------------------------------------


def test_auto_map_in_the_base_encoders_config_never_runs(built, tmp_path, capsys, prompts) -> None:
    # The fingerprint covers the weights only: a copied encoder with a hostile config.json passes it.
    pipeline, marker = copy_of(built, tmp_path), tmp_path / "MARKER"
    encoder = foreign_encoder(built, tmp_path)
    plant_code(encoder, marker)
    edit_json(encoder / "config.json", updated(auto_map=MODEL_AUTO_MAP, model_type="evilbert"))
    edit_meta(pipeline / "components", base_encoder=str(encoder), base_sha256=encoder_fingerprint(encoder))
    refused(capsys, built, pipeline, str(encoder / "config.json"), "'auto_map'", "custom code")
    assert not marker.exists() and prompts == []


def test_auto_map_in_a_full_checkpoints_config_never_runs(built, tmp_path, capsys, prompts) -> None:
    pipeline, marker = copy_of(built, tmp_path, "full"), tmp_path / "MARKER"
    plant_code(pipeline / "stance", marker)
    edit_json(pipeline / "stance" / "config.json", updated(auto_map=MODEL_AUTO_MAP, model_type="evilbert"))
    refused(capsys, built, pipeline, str(pipeline / "stance" / "config.json"), "'auto_map'")
    assert not marker.exists() and prompts == []


def test_auto_map_in_tokenizer_config_never_runs(built, tmp_path, capsys, prompts) -> None:
    pipeline, marker = copy_of(built, tmp_path), tmp_path / "MARKER"
    plant_code(pipeline / "components", marker)
    edit_json(
        pipeline / "components" / "tokenizer_config.json",
        updated(auto_map={"AutoTokenizer": ["evil.EvilTokenizer", "evil.EvilTokenizer"]}, tokenizer_class="Evil"),
    )
    refused(capsys, built, pipeline, str(pipeline / "components" / "tokenizer_config.json"), "'auto_map'")
    assert not marker.exists() and prompts == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("auto_mapping", {"base_model_class": "EvilModel", "parent_library": "evil"}),
        ("corda_config", {"cache_file": "evil.pt", "covariance_file": "evil.pt"}),  # torch.load'ed by peft
        ("peft_type", "PROMPT_TUNING"),
    ],
)
def test_adapter_config_naming_other_code_or_files_is_refused(built, tmp_path, capsys, field, value) -> None:
    pipeline = copy_of(built, tmp_path)
    edit_json(pipeline / "components" / "adapter_config.json", updated(**{field: value}))
    refused(capsys, built, pipeline, str(pipeline / "components" / "adapter_config.json"), repr(field))


@pytest.mark.parametrize(
    ("file", "change", "field"),
    [
        ("config.json", {"architectures": ["EvilModel"]}, "'architectures'"),
        ("config.json", {"model_type": "evilbert"}, "'model_type'"),
        ("config.json", {"transformers_weights": "adapter_model.bin"}, "'transformers_weights'"),
        ("config.json", {"attn_implementation": "kernels-community/evil"}, "'attn_implementation'"),  # hub code
        ("config.json", {"quantization_config": {"quant_method": "bitsandbytes"}}, "'quantization_config'"),
        ("tokenizer_config.json", {"tokenizer_class": "EvilTokenizer"}, "'tokenizer_class'"),
    ],
)
def test_classes_transformers_does_not_have_are_refused(built, tmp_path, capsys, file, change, field) -> None:
    pipeline = copy_of(built, tmp_path, "full")
    edit_json(pipeline / "stance" / file, updated(**change))
    refused(capsys, built, pipeline, str(pipeline / "stance" / file), field)


def test_every_load_passes_the_safe_flags(built, monkeypatch) -> None:
    import transformers

    calls: list[tuple[str, dict]] = []
    for name in ("AutoTokenizer", "AutoModelForTokenClassification", "AutoModelForSequenceClassification"):
        cls = getattr(transformers, name)
        original = cls.from_pretrained.__func__

        def spy(klass, *args, _name=name, _original=original, **kwargs):
            calls.append((_name, kwargs))
            return _original(klass, *args, **kwargs)

        monkeypatch.setattr(cls, "from_pretrained", classmethod(spy))
    ArgumentMiner.from_pretrained(built["lora"])
    ArgumentMiner.from_pretrained(built["full"])
    assert {name for name, _ in calls} == {
        "AutoTokenizer", "AutoModelForTokenClassification", "AutoModelForSequenceClassification"
    }
    for name, kwargs in calls:
        assert kwargs.get("trust_remote_code") is False and kwargs.get("local_files_only") is True, (name, kwargs)
        if name != "AutoTokenizer":
            assert kwargs.get("use_safetensors") is True, (name, kwargs)


# -- pickles ---------------------------------------------------------------------------------------------


class _Payload:
    """Unpickling this writes the marker: what a hostile pytorch_model.bin does."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "pickle code ran"))


def test_pickle_weights_in_a_checkpoint_are_refused_by_name(built, tmp_path, capsys) -> None:
    pipeline, marker = copy_of(built, tmp_path, "full"), tmp_path / "MARKER"
    (pipeline / "stance" / "model.safetensors").unlink()
    (pipeline / "stance" / "pytorch_model.bin").write_bytes(pickle.dumps(_Payload(marker)))
    refused(capsys, built, pipeline, str(pipeline / "stance" / "pytorch_model.bin"), "pickle", "safetensors")
    assert not marker.exists()


def test_a_pickled_scikit_learn_member_is_refused_by_name(built, tmp_path, capsys) -> None:
    pipeline, marker = copy_of(built, tmp_path, "sklearn"), tmp_path / "MARKER"
    (pipeline / "stance" / "model.safetensors").unlink()
    (pipeline / "stance" / "model.pkl").write_bytes(pickle.dumps(_Payload(marker)))
    refused(capsys, built, pipeline, str(pipeline / "stance" / "model.pkl"), "pickle")
    assert not marker.exists()


def test_a_base_encoder_with_pickle_weights_is_never_read(built, tmp_path, capsys, monkeypatch) -> None:
    pipeline = copy_of(built, tmp_path)
    encoder = foreign_encoder(built, tmp_path)
    weights = load_file(str(encoder / "model.safetensors"))
    (encoder / "model.safetensors").unlink()
    torch.save(weights, encoder / "pytorch_model.bin")  # an honest pickle: nothing but tensors, still refused
    loads: list[object] = []
    original = torch.load
    monkeypatch.setattr(torch, "load", lambda *a, **k: loads.append(a) or original(*a, **k))
    sha = hashlib.sha256((encoder / "pytorch_model.bin").read_bytes()).hexdigest()
    edit_meta(pipeline / "components", base_encoder=str(encoder), base_sha256=sha)
    refused(capsys, built, pipeline, "pytorch_model.bin", "safetensors")
    assert loads == []


# -- the base encoder a checkpoint names ---------------------------------------------------------------------


def test_a_foreign_base_encoder_without_fingerprint_is_refused(built, tmp_path, capsys) -> None:
    pipeline = copy_of(built, tmp_path)
    encoder = foreign_encoder(built, tmp_path)
    edit_meta(pipeline / "stance", base_encoder=str(encoder), base_sha256=None)
    refused(capsys, built, pipeline, str(pipeline / "stance" / META_FILE), "'base_sha256'", "null", str(encoder))


def test_the_training_encoder_itself_needs_its_fingerprint_too(built, tmp_path, capsys) -> None:
    pipeline = copy_of(built, tmp_path)
    edit_meta(pipeline / "components", base_sha256=None)  # base_encoder: still the folder it was trained on
    refused(capsys, built, pipeline, str(pipeline / "components" / META_FILE), "'base_sha256'")


@pytest.fixture()
def packaged_tiny(built, monkeypatch) -> dict[str, str]:
    """The tiny encoder installed as if it were a packaged one, named "tiny"; returns the pinned hashes."""
    module = types.ModuleType("argmine_test_tiny_encoder")
    module.get_model_path = lambda: str(built["encoder"])
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setattr("argmine.checkpoint.NAMED_ENCODERS", {"tiny": module.__name__})
    pinned = {"tiny": encoder_fingerprint(built["encoder"])}
    monkeypatch.setattr("argmine.checkpoint.NAMED_ENCODER_SHA256", pinned)
    return pinned


def test_a_packaged_encoder_is_verified_by_its_pinned_hash(built, tmp_path, packaged_tiny) -> None:
    folder = Path(shutil.copytree(built["lora"] / "components", tmp_path / "components"))
    edit_meta(folder, base_encoder="tiny", base_sha256=None)
    Segmenter.from_pretrained(folder)  # the packaged encoder, with its pinned weights
    packaged_tiny["tiny"] = "0" * 64  # another version of the package than the one pinned
    with pytest.raises(CheckpointError, match="tiny.*install the pinned encoder package"):
        Segmenter.from_pretrained(folder)


# -- JSON of the wrong type -----------------------------------------------------------------------------------

WRONG_TYPES = {
    # name: (pipeline, part, file, change, what the line says)
    "argmine.json a list": ("lora", "", META_FILE, lambda d: [d], "expected a JSON object, got a list"),
    "pipeline settings a list": ("lora", "", META_FILE, updated(settings=[1]), "'settings' must be an object"),
    "pipeline training a string": ("lora", "", META_FILE, updated(training="x"), "'training' must be an object"),
    "part argmine.json a number": ("lora", "components", META_FILE, lambda d: 3, "got a number"),
    "part settings a string": ("lora", "components", META_FILE, updated(settings="abc"), "'settings'"),
    "part training a list": ("lora", "stance", META_FILE, updated(training=[]), "'training'"),
    "training.metrics a list": ("sklearn", "stance", META_FILE, updated(training={"metrics": [1]}), "metrics"),
    "version a number": ("lora", "components", META_FILE, updated(argmine_version=0.1), "'argmine_version'"),
    "base_encoder a number": ("lora", "components", META_FILE, updated(base_encoder=7), "'base_encoder'"),
    "base_sha256 a list": ("lora", "components", META_FILE, updated(base_sha256=["x"]), "'base_sha256'"),
    "tokenizer_config a list": ("lora", "components", "tokenizer_config.json", lambda d: [d], "got a list"),
    "model_max_length a string": (
        "lora", "components", "tokenizer_config.json", updated(model_max_length="abc"), "'model_max_length'"
    ),
    "cls_token a number": ("lora", "stance", "tokenizer_config.json", updated(cls_token=5), "'cls_token'"),
    "added_tokens_decoder a list": (
        "lora", "components", "tokenizer_config.json", updated(added_tokens_decoder=[]), "'added_tokens_decoder'"
    ),
    "tokenizer_class a number": ("lora", "stance", "tokenizer_config.json", updated(tokenizer_class=1), "'tokenizer"),
    "adapter_config a list": ("lora", "components", "adapter_config.json", lambda d: [d], "got a list"),
    "adapter r a string": ("lora", "components", "adapter_config.json", updated(r="8"), "'r' must be an integer"),
    "config.json a string": ("full", "stance", "config.json", lambda d: "bert", "got a string"),
    "id2label a list": ("full", "stance", "config.json", updated(id2label=["support"]), "'id2label'"),
    "features.json a list": ("sklearn", "stance", "features.json", lambda d: [d], "got a list"),
    "features blocks an object": ("sklearn", "stance", "features.json", updated(blocks=5), "'blocks' must be a list"),
    "post_reserve a string": ("lora", "stance", META_FILE, lambda d: {**d, "settings": {
        **d["settings"], "post_reserve": "64"}}, "settings.post_reserve"),
    "max_length true": ("lora", "stance", META_FILE, lambda d: {**d, "settings": {
        **d["settings"], "max_length": True}}, "settings.max_length"),
}


@pytest.mark.parametrize("case", list(WRONG_TYPES))
def test_json_of_the_wrong_type_is_one_line(built, tmp_path, capsys, case) -> None:
    kind, part, file, change, says = WRONG_TYPES[case]
    pipeline = copy_of(built, tmp_path, kind)
    path = pipeline / part / file
    edit_json(path, change)
    refused(capsys, built, pipeline, str(path), says)


def test_a_base_encoders_config_of_the_wrong_type_is_one_line(built, tmp_path, capsys) -> None:
    pipeline = copy_of(built, tmp_path)
    encoder = foreign_encoder(built, tmp_path)
    edit_json(encoder / "config.json", updated(max_position_embeddings="128"))
    edit_meta(pipeline / "components", base_encoder=str(encoder), base_sha256=encoder_fingerprint(encoder))
    refused(capsys, built, pipeline, str(encoder / "config.json"), "'max_position_embeddings'")


# -- max_length beyond the encoder's positions -----------------------------------------------------------------


@pytest.mark.parametrize(("kind", "part"), [("lora", "components"), ("lora", "stance"), ("full", "stance")])
def test_max_length_beyond_the_position_embeddings_is_refused_at_load(built, tmp_path, capsys, kind, part) -> None:
    pipeline = copy_of(built, tmp_path, kind)
    edit_meta(pipeline / part, **{"settings.max_length": 4096})  # the tiny encoder has 128 positions
    refused(capsys, built, pipeline, str(pipeline / part / META_FILE), "max_length is 4096", "128 positions")


# -- non-finite weights ----------------------------------------------------------------------------------------


def poison(path: Path, pick, value: float) -> str:
    """Put ``value`` into the first tensor of the safetensors file whose name ``pick`` accepts; its name."""
    tensors = load_file(str(path))
    name = next(n for n in sorted(tensors) if pick(n))
    tensors[name] = tensors[name].clone()
    tensors[name].view(-1)[0] = value
    save_file(tensors, str(path))
    return name


@pytest.mark.parametrize(
    ("kind", "part", "file", "pick", "value", "says"),
    [
        ("lora", "components", "adapter_model.safetensors", lambda n: n.endswith("classifier.weight"), np.nan, "NaN"),
        ("lora", "components", "adapter_model.safetensors", lambda n: "lora_A" in n, np.inf, "infinite"),
        ("lora", "stance", "adapter_model.safetensors", lambda n: "classifier" in n, np.nan, "NaN"),
        ("full", "stance", "model.safetensors", lambda n: "attention" in n, -np.inf, "infinite"),
    ],
)
def test_non_finite_weights_are_refused_at_load(built, tmp_path, capsys, kind, part, file, pick, value, says) -> None:
    pipeline = copy_of(built, tmp_path, kind)
    name = poison(pipeline / part / file, pick, value)
    refused(capsys, built, pipeline, str(pipeline / part / file), repr(name), says)


def test_a_nan_in_the_scikit_learn_member_is_refused_at_load(built, tmp_path, capsys) -> None:
    pipeline = copy_of(built, tmp_path, "sklearn")
    path = pipeline / "stance" / "model.safetensors"
    tensors = load_numpy(str(path))
    tensors["coef"] = tensors["coef"].copy()
    tensors["coef"][0, 0] = np.nan
    save_numpy(tensors, str(path))
    refused(capsys, built, pipeline, str(path), "'coef'", "NaN")


# -- the checks on their own ---------------------------------------------------------------------------------


def test_check_loadable_names_the_first_problem(built, tmp_path) -> None:
    from argmine.checkpoint import check_loadable

    encoder = foreign_encoder(built, tmp_path)
    check_loadable(encoder)  # the honest encoder passes
    (encoder / "special_tokens_map.json").write_text(json.dumps({"auto_map": {"AutoTokenizer": "evil.X"}}))
    with pytest.raises(CheckpointError, match=r"special_tokens_map\.json: field 'auto_map' names custom code"):
        check_loadable(encoder)
