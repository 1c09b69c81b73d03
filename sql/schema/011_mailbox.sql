-- The office mailbox as a source (cchc.loading.mailbox, migration 0003). A message is recorded,
-- with each of its attachments, in the same transaction as the receipts of its workbooks; only then
-- does it leave the inbox (moved, never deleted). A run killed in between finds the message again:
-- its key is known, so nothing is received twice, and it is only moved.
CREATE TABLE IF NOT EXISTS mail_messages (
    message_key    CHAR(64)      PRIMARY KEY,  -- SHA-256 of the Message-ID: one row however often it is delivered
    message_id     VARCHAR(998)  NOT NULL,     -- as written, <…>; made from the bytes' SHA-256 when missing
    sender         VARCHAR(254)  NOT NULL,     -- the From address, lower-cased
    sender_name    VARCHAR(200)  NOT NULL,
    reply_to       VARCHAR(254)  NOT NULL,     -- Reply-To address ('' if none): where the answer goes
    subject        VARCHAR(500)  NOT NULL,
    references_ids VARCHAR(4000) NOT NULL,     -- its References header, continued by the answer's
    auth_failed    SMALLINT      NOT NULL,     -- 1: the receiving server's SPF/DKIM/DMARC check failed
    automatic      SMALLINT      NOT NULL,     -- 1: itself an automatic message (out-of-office, bounce): not answered
    received_at    TIMESTAMP     NOT NULL,     -- UTC, when the mailbox got it (IMAP INTERNALDATE): its files' arrival
    taken_at       TIMESTAMP     NOT NULL,     -- UTC, when the pipeline recorded it
    run_id         VARCHAR(250),
    disposition    VARCHAR(16)   NOT NULL,     -- workbooks | review (nothing to receive: for a person)
    folder         VARCHAR(200),               -- where it was moved ('CCHC/Đã xử lý', 'CCHC/Cần xem')
    moved_at       TIMESTAMP,                  -- NULL until it has left the inbox
    replied_at     TIMESTAMP,                  -- NULL until its one answer is sent
    reply_id       VARCHAR(998),               -- the answer's Message-ID
    reply_outcome  VARCHAR(16)                 -- sent | logged (no mail server configured) | automatic | no_sender
);
CREATE INDEX IF NOT EXISTS ix_mail_messages_run ON mail_messages (run_id);

CREATE TABLE IF NOT EXISTS mail_attachments (
    message_key  CHAR(64)      NOT NULL REFERENCES mail_messages (message_key),
    seq          INTEGER       NOT NULL,       -- 1, 2, … in the message's order (zip members after their zip)
    file_name    VARCHAR(300)  NOT NULL,
    from_zip     VARCHAR(300)  NOT NULL,       -- the zip it was unpacked from ('' if attached directly)
    checksum     CHAR(64),                     -- received_files.checksum (written just before it, in the same transaction); NULL: not received
    first_seen   SMALLINT      NOT NULL,       -- 1: these bytes were new to the warehouse with this message
    skipped      VARCHAR(64),                  -- why it was not received (catalogue key, messages/mailbox.yml)
    detail       VARCHAR(500),
    PRIMARY KEY (message_key, seq)
);
CREATE INDEX IF NOT EXISTS ix_mail_attachments_checksum ON mail_attachments (checksum);

-- A workbook for unit X from an address not registered for X (or failing the server's sender
-- checks) is loaded as `held`: kept, not counted, until ops confirm (it then counts, with who
-- confirmed) or reject it (cchc.loading.holds).
CREATE TABLE IF NOT EXISTS sender_holds (
    checksum        CHAR(64)      PRIMARY KEY REFERENCES received_files (checksum),
    message_key     CHAR(64)      NOT NULL REFERENCES mail_messages (message_key),
    sender          VARCHAR(254)  NOT NULL,
    unit_code       VARCHAR(16)   NOT NULL,
    period_code     VARCHAR(16)   NOT NULL,
    verdict_status  VARCHAR(32)   NOT NULL,    -- accepted | accepted_with_warnings: what it counts as once confirmed
    reason          VARCHAR(32)   NOT NULL,    -- unregistered | auth_failed
    held_at         TIMESTAMP     NOT NULL,
    decision        VARCHAR(16),               -- NULL while held; confirmed | rejected
    decided_by      VARCHAR(200),
    decided_at      TIMESTAMP,
    told_at         TIMESTAMP                  -- when the sender was told of the decision
);
