"""The measures table on a Dask cluster (two worker processes on loopback) equals the one
made here: photos sent as bytes (``analyze --dask``) or read from a shared path."""

from __future__ import annotations

import subprocess
import sys

import distributed
import numpy as np
import pandas as pd
import pytest

from analyzer import measure_table
from analyzer.measure.imaging import load_photo
from analyzer.measure.table import measure_on_dask
from tests.conftest import ROOT, SAMPLE
from tests.test_table import write_rgb


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dask_photos")
    face = load_photo(SAMPLE)
    write_rgb(folder / "a_astronaut.jpg", face)
    write_rgb(folder / "b_mirrored.jpg", np.ascontiguousarray(face[:, ::-1]))
    (folder / "c_corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg" * 10)
    return folder


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    ) as running:
        yield running


@pytest.fixture(scope="module")
def local(photos) -> pd.DataFrame:
    return measure_table([photos], jobs=1)


def test_shared_paths_on_a_cluster_give_the_local_table(cluster, photos, local):
    remote = measure_on_dask(cluster.scheduler_address, [photos], shared=True)
    pd.testing.assert_frame_equal(remote, local, check_exact=True)
    assert remote["ok"].tolist() == [True, True, False]


def test_analyze_dask_sends_the_photos_and_writes_the_local_table(cluster, photos, local, tmp_path):
    out = tmp_path / "cluster.parquet"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "analyzer",
            "analyze",
            str(photos),
            "--table",
            str(out),
            "--dask",
            cluster.scheduler_address,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 1, done.stderr  # the corrupt photo
    assert "Traceback" not in done.stderr
    pd.testing.assert_frame_equal(pd.read_parquet(out), local, check_exact=True)


def test_an_address_without_a_scheduler_is_a_sentence(photos, tmp_path, monkeypatch, capsys):
    from analyzer import cli
    from analyzer.measure import table

    monkeypatch.setattr(table, "DASK_CONNECT_TIMEOUT", "1s")
    out = tmp_path / "t.csv"
    code = cli.main(["analyze", str(photos), "--table", str(out), "--dask", "tcp://127.0.0.1:9"])
    assert code == 1 and not out.exists()
    assert "could not be reached" in capsys.readouterr().err
