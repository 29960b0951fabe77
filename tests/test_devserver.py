"""Dev mode's reload: the watcher finds an installed plugin's source without importing
it, and restarts the server when a watched file changes."""
import os
import sys
import threading
import time

from playground.web.devserver import serve_with_reload, snapshot, watched_paths


def test_watched_paths_include_an_installed_plugins_source(tmp_path, monkeypatch):
    from test_plugins import GOOD_PLUGIN, install_fake_distribution

    install_fake_distribution(tmp_path, monkeypatch, "student-lab", "student", "student_watch_mod", GOOD_PLUGIN)
    paths = watched_paths()
    assert tmp_path / "student_watch_mod.py" in paths
    assert "student_watch_mod" not in sys.modules  # found, not imported
    assert any(p.name == "playground" for p in paths)


def test_snapshot_sees_an_edit(tmp_path):
    source = tmp_path / "lab.py"
    source.write_text("x = 1\n")
    before = snapshot([tmp_path])
    os.utime(source, (time.time() + 5, time.time() + 5))
    assert snapshot([tmp_path]) != before


def test_server_restarts_when_a_watched_file_changes(tmp_path, capsys):
    source = tmp_path / "lab.py"
    source.write_text("x = 1\n")
    starts = tmp_path / "starts.log"
    # a stand-in server: logs each start and whether it runs in dev mode, then serves for 6 s
    child = (f"import os, time; open({str(starts)!r}, 'a').write(os.environ.get('PLAYGROUND_DEV', '?') + '\\n'); "
             "time.sleep(6)")

    def edit_soon():
        time.sleep(1.5)
        os.utime(source, (time.time() + 5, time.time() + 5))

    threading.Thread(target=edit_soon, daemon=True).start()
    assert serve_with_reload([], paths=[tmp_path], command=[sys.executable, "-c", child]) == 0
    assert starts.read_text().splitlines() == ["1", "1"]  # started, restarted once; dev mode both times
    assert "source changed; restarting the app" in capsys.readouterr().out
