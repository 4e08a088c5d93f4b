"""The fake Hub answers the real huggingface_hub client as the Hub would, for what r1 uses.

Each test drives `HfApi` (the client every r1 package goes through) and checks the state
the fake kept, so a regression in the fake fails here, not as a puzzling failure in
another package's suite.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from r1_test_support import FakeHub, point_hub_clients_at, serve_fake_hub

huggingface_hub = pytest.importorskip("huggingface_hub")


def _api(hub: FakeHub):
    return huggingface_hub.HfApi(endpoint=hub.url, token="hf_dummy_token_for_tests")


def test_create_records_type_and_privacy(fake_hub: FakeHub) -> None:
    api = _api(fake_hub)
    api.create_repo("org/model", private=True)
    api.create_repo("org/data", repo_type="dataset")
    assert sorted(fake_hub.repos) == ["datasets/org/data", "org/model"]
    assert fake_hub.repo("org/model")["private"] is True
    assert fake_hub.repo("org/data", "dataset")["private"] is False
    with pytest.raises(huggingface_hub.errors.HfHubHTTPError):
        api.create_repo("org/model")  # 409 without exist_ok
    api.create_repo("org/model", exist_ok=True)


# huggingface_hub's legacy LFS upload (the fake serves no Xet) uses an argument httpx deprecated.
@pytest.mark.filterwarnings("ignore:Use 'content=<...>' to upload raw bytes:DeprecationWarning")
def test_upload_to_a_branch_from_the_first_commit_leaves_main_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with serve_fake_hub(FakeHub(lfs_suffixes=(".bin",))) as hub:
        point_hub_clients_at(hub.url, monkeypatch)
        _upload_to_a_branch(hub, tmp_path)


def _upload_to_a_branch(fake_hub: FakeHub, tmp_path: Path) -> None:
    api = _api(fake_hub)
    api.create_repo("org/model")
    api.upload_file(path_or_fileobj=b"on main", path_in_repo="main.txt", repo_id="org/model")
    first = api.list_repo_commits("org/model")[-1].commit_id
    api.create_branch("org/model", branch="v1", revision=first)
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "weights.bin").write_bytes(b"x" * 100)  # through LFS
    api.upload_folder(folder_path=tmp_path, repo_id="org/model", revision="v1")

    repo = fake_hub.repo("org/model")
    assert repo["branch_from"]["v1"] == repo["commits"][0]
    assert fake_hub.files("org/model", revision="v1") == {
        "config.json": b"{}",
        "weights.bin": b"x" * 100,
    }
    assert fake_hub.files("org/model") == {"main.txt": b"on main"}
    assert list(fake_hub.lfs.values()) == [b"x" * 100]
    assert {ref.name for ref in api.list_repo_refs("org/model").branches} == {"main", "v1"}
    assert sorted(api.list_repo_files("org/model", revision="v1")) == [
        "config.json",
        "weights.bin",
    ]


def test_download_and_missing_repo(fake_hub: FakeHub, tmp_path: Path) -> None:
    fake_hub.create("org/model")
    fake_hub.commit("org/model", {"a.txt": b"hello"})
    path = huggingface_hub.hf_hub_download(
        "org/model", "a.txt", cache_dir=tmp_path, endpoint=fake_hub.url
    )
    assert Path(path).read_bytes() == b"hello"
    assert not _api(fake_hub).repo_exists("org/other")
    with pytest.raises(KeyError, match="no model repo 'org/other'"):
        fake_hub.repo("org/other")
