-- SQS: where a dead-lettered message came from, and ReceiveRequestAttemptId retries.

-- The queue a message was in when the DLQ redrive moved it: StartMessageMoveTask without a
-- DestinationArn returns each message there. NULL for messages sent to the queue directly
-- or moved by a task since.
ALTER TABLE sqs_messages ADD COLUMN origin_queue_id INTEGER;

-- FIFO ReceiveRequestAttemptId: a retry within 5 minutes gets the messages of the receive that
-- used the id (they carry its nonce as their receipt), also after a restart.
CREATE TABLE sqs_receive_attempts (
    queue_id   INTEGER NOT NULL,
    attempt_id TEXT NOT NULL,
    nonce      TEXT NOT NULL,
    expires_ms INTEGER NOT NULL,
    PRIMARY KEY (queue_id, attempt_id)
);
