-- SQS: per-queue message totals kept by triggers, so GetQueueAttributes' counts need no scan
-- of a large queue. Triggers run inside the writing transaction: the total is exactly the
-- row count after any send, delete, purge, DLQ move, sweep, restart or kill -9.
CREATE TABLE sqs_message_counts (
    queue_id INTEGER PRIMARY KEY,
    total    INTEGER NOT NULL
);
INSERT INTO sqs_message_counts (queue_id, total) SELECT id, 0 FROM sqs_queues;
UPDATE sqs_message_counts SET total =
    (SELECT COUNT(*) FROM sqs_messages m WHERE m.queue_id = sqs_message_counts.queue_id);

CREATE TRIGGER sqs_queue_counts_create AFTER INSERT ON sqs_queues BEGIN
    INSERT OR REPLACE INTO sqs_message_counts (queue_id, total) VALUES (NEW.id, 0);
END;
CREATE TRIGGER sqs_queue_counts_drop AFTER DELETE ON sqs_queues BEGIN
    DELETE FROM sqs_message_counts WHERE queue_id = OLD.id;
END;
CREATE TRIGGER sqs_message_counts_insert AFTER INSERT ON sqs_messages BEGIN
    UPDATE sqs_message_counts SET total = total + 1 WHERE queue_id = NEW.queue_id;
END;
CREATE TRIGGER sqs_message_counts_delete AFTER DELETE ON sqs_messages BEGIN
    UPDATE sqs_message_counts SET total = total - 1 WHERE queue_id = OLD.queue_id;
END;
-- Dead-letter and move-task moves change a message's queue in place.
CREATE TRIGGER sqs_message_counts_move AFTER UPDATE OF queue_id ON sqs_messages
WHEN OLD.queue_id <> NEW.queue_id BEGIN
    UPDATE sqs_message_counts SET total = total - 1 WHERE queue_id = OLD.queue_id;
    UPDATE sqs_message_counts SET total = total + 1 WHERE queue_id = NEW.queue_id;
END;

-- Expired messages not yet swept are found by this index, both by the counts (which must not
-- include them) and by the sweeper (which otherwise scanned the whole table every 30 s).
CREATE INDEX sqs_messages_expiry ON sqs_messages (expires_ms);
