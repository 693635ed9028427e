def test_health_lists_services(server):
    h = server.get_json("/_cloudemu/health")
    assert h["status"] == "ok"
    assert h["storage"]["mode"] == "disk"
    assert h["services"]["sts"] == "running"
    assert h["services"]["iam"] == "running"


def test_localstack_health_shape(server):
    h = server.get_json("/_localstack/health")
    assert h["services"]["sts"] == "running"
    assert h["services"]["iam"] == "running"
    assert "edition" in h and "version" in h
