from pose_animate.core.benchmarks import collect, main, summarise


def _bench(folder, rule, job, seconds, rss):
    path = folder / rule / f"{job}.tsv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\t"
                    f"cpu_time\n{seconds}\t0:00:01\t{rss}\t1\t1\t1\t0\t0\t50\t{seconds / 2}\n")


def test_summary_tables_time_and_memory_per_stage(tmp_path, capsys):
    _bench(tmp_path, "frames", "alice", 2.0, 100)
    _bench(tmp_path, "frames", "bob", 4.0, 300)
    _bench(tmp_path, "keypoints", "alice", 10.0, 500)
    (tmp_path / "flow").mkdir()
    (tmp_path / "flow" / "empty.tsv").write_text("")  # an interrupted job: ignored
    table = summarise(collect(tmp_path))
    assert list(table.index) == ["keypoints", "frames"]
    assert table.loc["frames", "jobs"] == 2 and table.loc["frames", "mean_s"] == 3.0
    assert table.loc["frames", "peak_rss_mib"] == 300
    main([str(tmp_path)])
    out = capsys.readouterr().out
    assert "keypoints" in out and "3 jobs, 16.0 s" in out
