

def test_stop_flags_set_only_the_running_session_and_forget_it_after():
    """The shared Stop button: it stops the session that pressed it, says so, and with
    nothing running says that instead."""
    from types import SimpleNamespace

    from playground.web.ui import StopFlags

    stops = StopFlags("Stopping.", idle="Nothing to stop.")
    alice, bob = SimpleNamespace(session_hash="alice"), SimpleNamespace(session_hash="bob")
    assert stops.request_stop(bob) == "Nothing to stop."
    assert stops.request_stop(alice) == "Nothing to stop."
    with stops.running("alice") as alice_stops, stops.running("bob") as bob_stops:
        assert not alice_stops() and not bob_stops()
        assert stops.request_stop(alice) == "Stopping."
        assert alice_stops() and not bob_stops()
        assert stops.request_stop(bob) == "Stopping." and bob_stops()
    assert stops.request_stop(alice) == "Nothing to stop."  # forgotten once the run ended
    with stops.running("alice") as again:
        assert not again()  # a new run starts unstopped
