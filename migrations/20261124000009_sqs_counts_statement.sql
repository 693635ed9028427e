-- SQS: per-queue message totals kept by the statements that add, remove or move messages
-- (storage/src/sqs.rs adjusts `total` once per statement by its row count, in the same
-- transaction), no longer by per-row triggers: each trigger ran one UPDATE per message and
-- made SQLite keep a statement journal, about half the writer's work on a delete of ten.
-- The queue-level triggers (a row per queue, created and dropped with it) stay.
DROP TRIGGER IF EXISTS sqs_message_counts_insert;
DROP TRIGGER IF EXISTS sqs_message_counts_delete;
DROP TRIGGER IF EXISTS sqs_message_counts_move;

-- Recount from the rows, so a database written under any earlier schema is exact from here.
DELETE FROM sqs_message_counts WHERE queue_id NOT IN (SELECT id FROM sqs_queues);
INSERT OR IGNORE INTO sqs_message_counts (queue_id, total) SELECT id, 0 FROM sqs_queues;
UPDATE sqs_message_counts SET total =
    (SELECT COUNT(*) FROM sqs_messages m WHERE m.queue_id = sqs_message_counts.queue_id);
