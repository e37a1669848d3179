# moto_server for the local runtime: moto's own WSGI app with these additions (Emulators.startMoto); issue 30's
# fair lock and one table copy per transaction are FairLock and copy_each_table_once below.
#
# 1. Requests are handled one at a time. moto's backends are not thread-safe: with its threaded server,
#    concurrent TransactWriteItems that ADD to the same item lose updates (measured: 899 instead of 900
#    after 6 threads x 150), which real DynamoDB never does. Connections stay threaded (keep-alive works).
# 2. With a snapshot file (argv[3]), the DynamoDB and KMS state survives restarts: moto has no persistence
#    of its own, so the backends themselves are pickled — tables with their items, indexes and TTL, KMS keys
#    with their ids, aliases and key material (without which no stored api_key or email could be decrypted,
#    no API key looked up by its HMAC, no issued JWT verified). A snapshot is taken under the same lock as
#    requests, so it never holds half a transaction: every SNAPSHOT_SECONDS when a write happened since the
#    last one, on SIGTERM, and when stdin closes — the runtime that started us died, even by kill -9 — after
#    which we exit. Written to a temporary file and renamed: a crash mid-write leaves the previous snapshot.
import copyreg, os, pickle, signal, sys, threading, time

from werkzeug.serving import run_simple
from moto.server import DomainDispatcherApplication, create_backend_app

host, port = sys.argv[1], int(sys.argv[2])
snapshot_file = sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] else None
SNAPSHOT_SECONDS = float(os.environ.get("MOTO_SNAPSHOT_SECONDS", "1"))
SERVICES = ("dynamodb", "kms")
FORMAT = 1
os.environ.setdefault("MOTO_PORT", str(port))

app = DomainDispatcherApplication(create_backend_app)


class FairLock:
    # One request at a time, as before; but a bulk write (TransactWriteItems, BatchWriteItem: the consumer's)
    # waits while any other request waits, so authentication and reads are not queued behind a backlog of
    # transactions (issue 30). Bulk writes keep their order among themselves. `with lock:` is a plain request.
    def __init__(self):
        self.cond = threading.Condition()
        self.busy = False
        self.urgent_waiting = 0
        self.next_bulk = 0
        self.serving_bulk = 0

    def acquire(self, bulk=False):
        with self.cond:
            if bulk:
                ticket = self.next_bulk
                self.next_bulk += 1
                while self.busy or self.urgent_waiting or ticket != self.serving_bulk:
                    self.cond.wait()
                self.serving_bulk += 1
            else:
                self.urgent_waiting += 1
                while self.busy:
                    self.cond.wait()
                self.urgent_waiting -= 1
            self.busy = True

    def release(self):
        with self.cond:
            self.busy = False
            self.cond.notify_all()

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc):
        self.release()


lock = FairLock()
BULK = ("DynamoDB_20120810.TransactWriteItems", "DynamoDB_20120810.BatchWriteItem")
dirty = threading.Event()

# Requests that change nothing; any other one marks the state dirty.
READS = {
    "DynamoDB_20120810." + a for a in ("GetItem", "BatchGetItem", "Query", "Scan", "DescribeTable", "ListTables",
                                       "DescribeTimeToLive", "TransactGetItems", "DescribeContinuousBackups",
                                       "ListTagsOfResource", "DescribeEndpoints")
} | {
    "TrentService." + a for a in ("Decrypt", "Encrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext",
                                  "GenerateRandom", "Sign", "Verify", "GenerateMac", "VerifyMac", "GetPublicKey",
                                  "DescribeKey", "ListKeys", "ListAliases", "GetKeyPolicy", "GetKeyRotationStatus")
}


def serialised(environ, start_response):
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    lock.acquire(target in BULK)
    try:
        response = list(app(environ, start_response))
        # AWS calls name their action in X-Amz-Target; of the rest only moto-api POSTs (reset) change state.
        if target not in READS if target else environ.get("REQUEST_METHOD") == "POST":
            dirty.set()
        return response
    finally:
        lock.release()


def copy_each_table_once():
    # moto 5 deep-copies a table for every item of a TransactWriteItems (its rollback copy; each copy
    # overwrites the previous one, all are taken before the first write): a 100-part transaction cost 100
    # table copies and timed out (issue 30). The same rollback state from one copy per table.
    import copy
    try:
        import moto.dynamodb.models as models
        from moto.dynamodb.models.table import Table
    except ImportError:
        return
    if getattr(models, "copy", None) is not copy or not hasattr(models.DynamoDBBackend, "transact_write_items"):
        return  # another moto layout: leave it as it is

    class CopyOnce:
        memo = None

        def __getattr__(self, name):
            return getattr(copy, name)

        def deepcopy(self, x, memo=None):
            if CopyOnce.memo is None or memo is not None or not isinstance(x, Table):
                return copy.deepcopy(x, memo)
            if id(x) not in CopyOnce.memo:
                CopyOnce.memo[id(x)] = (x, copy.deepcopy(x))
            return CopyOnce.memo[id(x)][1]

    original = models.DynamoDBBackend.transact_write_items

    def transact_write_items(self, *args, **kwargs):
        CopyOnce.memo = {}
        try:
            return original(self, *args, **kwargs)
        finally:
            CopyOnce.memo = None

    models.copy = CopyOnce()
    models.DynamoDBBackend.transact_write_items = transact_write_items


copy_each_table_once()


def backends():
    from moto.backends import get_backend
    return {name: get_backend(name) for name in SERVICES}


def _private_key(der):
    from cryptography.hazmat.primitives import serialization
    return serialization.load_der_private_key(der, password=None)


def _reduce_private_key(key):
    from cryptography.hazmat.primitives import serialization
    return _private_key, (key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()),)


def _register_key_pickling():
    # KMS keys hold `cryptography` private keys (Rust objects pickle cannot copy): kept as PKCS#8 DER.
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    for key in (rsa.generate_private_key(65537, 2048), ec.generate_private_key(ec.SECP256R1())):
        copyreg.pickle(type(key), _reduce_private_key)


def moto_version():
    import moto
    return moto.__version__


def restore():
    if not snapshot_file or not os.path.exists(snapshot_file):
        return
    with open(snapshot_file, "rb") as f:
        saved = pickle.load(f)
    if saved.get("format") != FORMAT or saved.get("moto") != moto_version():
        # The pickled classes are moto's own: another moto version may not read them. Start empty, keep the file.
        os.replace(snapshot_file, snapshot_file + ".unreadable")
        print("moto snapshot from moto %s not restored (this is %s); kept as %s.unreadable"
              % (saved.get("moto"), moto_version(), snapshot_file), flush=True)
        return
    live = backends()
    for name, state in saved["backends"].items():
        live[name].clear()
        live[name].update(state)
    print("restored %s from %s" % (", ".join(saved["backends"]), snapshot_file), flush=True)


# One snapshot at a time: the periodic one, SIGTERM's and the parent watch's (stdin closes as the runtime exits)
# can start together, and two writers of the one temporary file could rename a file the other had just
# truncated into place (a restart then met an empty snapshot: EOFError).
writing = threading.Lock()
exiting = threading.Lock()


def snapshot():
    if not snapshot_file:
        return
    with writing:
        with lock:
            dirty.clear()
            data = pickle.dumps({"format": FORMAT, "moto": moto_version(), "at": time.time(),
                                 "backends": {name: dict(b) for name, b in backends().items()}},
                                protocol=pickle.HIGHEST_PROTOCOL)
        tmp = snapshot_file + ".tmp"
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, snapshot_file)


def snapshot_and_exit(*_):
    # The first of SIGTERM and the parent watch saves and exits; the other leaves it to that one.
    if not exiting.acquire(blocking=False):
        return
    try:
        snapshot()
    finally:
        os._exit(0)


def snapshots():
    while True:
        time.sleep(SNAPSHOT_SECONDS)
        if dirty.is_set():
            try:
                snapshot()
            except Exception as e:  # keep serving; the next round tries again
                print("moto snapshot failed: %r" % (e,), flush=True)


def parent_watch():
    # Our stdin is a pipe from the runtime's JVM: it reaches EOF when the runtime exits, however it ended.
    while sys.stdin.buffer.read(4096):
        pass
    snapshot_and_exit()


if snapshot_file:
    _register_key_pickling()
    restore()
    signal.signal(signal.SIGTERM, snapshot_and_exit)
    threading.Thread(target=snapshots, name="snapshots", daemon=True).start()
    threading.Thread(target=parent_watch, name="parent-watch", daemon=True).start()

run_simple(host, port, serialised, threaded=True, use_reloader=False)
