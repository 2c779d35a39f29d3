"""Key rotation on a running service: readers and writers keep working while a new data key is
added, every name is re-encrypted online and the old key is retired; a key is removed only when
nothing needs it. The keys here come from the instance (as on the fund's server), in the form an
earlier release wrote them (``data_keys`` in settings.toml), so the move to a keyring file is tested too."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, select

from api.db.tables import Beneficiary
from api.security import Vault
from tests.conftest import BACKENDS, fresh_database
from tests.servers import prepare, servers


def _cli(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    r = subprocess.run([sys.executable, "-m", "api.cli", *args], env=env, capture_output=True, text=True, timeout=300)
    if check:
        assert r.returncode == 0, r.stderr + r.stdout
    return r


@pytest.mark.parametrize("backend", BACKENDS)
def test_rotation_while_the_service_runs(backend: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = fresh_database(backend, tmp_path)
    prepare(url)
    old = Fernet.generate_key()
    with servers(url, tmp_path, n=2, instance_keys=f'data_keys = "{old.decode()}"') as group:
        sw = [group.login(k, "sw") for k in range(2)]
        codes = [sw[k % 2].post("/v1/beneficiaries", json={"name": f"სახელი {k}"}).json()["code"] for k in range(8)]
        failures: list[str] = []
        stop = threading.Event()

        def reader(k: int) -> None:
            c = httpx.Client(base_url=group.urls[k % 2], cookies=sw[k % 2].cookies, timeout=30)
            n = 0
            while not stop.is_set():
                code = codes[n % len(codes)]
                r = c.get(f"/v1/beneficiaries/{code}")
                if r.status_code != 200 or not r.json().get("name", "").startswith("სახელი"):
                    failures.append(f"read {code}: {r.status_code} {r.text[:100]}")
                if n % 5 == 0:  # writers too: a new record sealed by one process is read by the other
                    made = c.post("/v1/beneficiaries", json={"name": f"სახელი ახალი {k}-{n}"})
                    if made.status_code != 201:
                        failures.append(f"create: {made.status_code} {made.text[:100]}")
                    else:
                        codes.append(made.json()["code"])
                n += 1
            c.close()

        threads = [threading.Thread(target=reader, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        env = {k: v for k, v in group.env.items() if k != "PROFORIENT_DATA_KEYS"}
        try:
            out = _cli(env, "rotate-key", "--wait", "6").stdout
            assert "re-encrypted" in out and "0 still need an older key" in out, out
            keyring = tmp_path / "data-keys"
            assert keyring.exists() and oct(keyring.stat().st_mode)[-3:] == "600"
            assert "data_keys_file" in (tmp_path / "settings.toml").read_text()
            time.sleep(2)
            retire = _cli(env, "rotate-key", "--retire", check=False)
            if retire.returncode != 0:  # a record sealed with the old key in the moment before the switch
                assert "rotate-key --reencrypt" in retire.stderr
                _cli(env, "rotate-key", "--reencrypt")
                _cli(env, "rotate-key", "--retire")
            time.sleep(7)  # the services look at the keyring again
        finally:
            stop.set()
            for t in threads:
                t.join()
        assert failures == [], failures[:5]
        # after the retirement, every name opens with the new key alone, in both processes
        new_keys = [ln for ln in (tmp_path / "data-keys").read_text().splitlines() if ln and not ln.startswith("#")]
        assert len(new_keys) == 1 and new_keys[0].encode() != old
        engine = create_engine(url)
        with engine.connect() as conn:
            blobs = conn.execute(select(Beneficiary.name_enc)).scalars().all()
        engine.dispose()
        only_new = Vault([new_keys[0].encode()])
        assert all(only_new.open(b).startswith("სახელი") for b in blobs)  # type: ignore[union-attr]
        with pytest.raises(ValueError, match="cannot be decrypted"):
            Vault([old]).open(blobs[0])
        for k in range(2):
            assert sw[k].get(f"/v1/beneficiaries/{codes[-1]}").status_code == 200
