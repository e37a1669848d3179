# moto_server for the local runtime (started by Emulators): moto's own WSGI application with three changes.
#
# 1. Requests of one service are handled one at a time: moto's backends are not thread-safe (concurrent
#    TransactWriteItems that ADD to one item lose updates: 899 instead of 900 after 6 threads x 150, which
#    DynamoDB never does). KMS has a lock of its own: its backend shares nothing with DynamoDB's.
# 2. Fair to the request path: a bulk write (TransactWriteItems, BatchWriteItem: the consumer's) waits while
#    any other request of its service is waiting, so authentication and reads are not queued behind a
#    backlog of transactions (issue 30). Bulk writes keep their order among themselves.
# 3. A transaction copies each table it touches once, not once per item: moto 5 deep-copies a table for
#    every item of a TransactWriteItems (its rollback copy; each copy overwrites the previous one, all are
#    taken before the first write), so a 100-part transaction cost 100 table copies.
import copy
import os
import sys
import threading

from werkzeug.serving import run_simple
from moto.server import DomainDispatcherApplication, create_backend_app

os.environ.setdefault('MOTO_PORT', sys.argv[2])
app = DomainDispatcherApplication(create_backend_app)


class FairLock:
    def __init__(self):
        self.cond = threading.Condition()
        self.busy = False
        self.urgent_waiting = 0
        self.next_bulk = 0
        self.serving_bulk = 0

    def acquire(self, bulk):
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


LOCKS = {'kms': FairLock(), 'other': FairLock()}
BULK = ('DynamoDB_20120810.TransactWriteItems', 'DynamoDB_20120810.BatchWriteItem')


def serialised(environ, start_response):
    target = environ.get('HTTP_X_AMZ_TARGET', '')
    lock = LOCKS['kms' if target.startswith('TrentService.') else 'other']
    lock.acquire(target in BULK)
    try:
        return list(app(environ, start_response))
    finally:
        lock.release()


def copy_each_table_once():
    try:
        import moto.dynamodb.models as models
        from moto.dynamodb.models.table import Table
    except ImportError:
        return
    if getattr(models, 'copy', None) is not copy or not hasattr(models.DynamoDBBackend, 'transact_write_items'):
        return  # another moto layout: leave it as it is

    class CopyOnce:
        memo = None

        def __getattr__(self, name):
            return getattr(copy, name)

        def deepcopy(self, x, memo=None):
            if CopyOnce.memo is None or memo is not None or not isinstance(x, Table):
                return copy.deepcopy(x, memo)
            key = id(x)
            if key not in CopyOnce.memo:
                CopyOnce.memo[key] = (x, copy.deepcopy(x))
            return CopyOnce.memo[key][1]

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
run_simple(sys.argv[1], int(sys.argv[2]), serialised, threaded=True, use_reloader=False)
