-- The units' e-mail addresses (include/reference/unit_contacts.csv): where each unit is told about
-- the files it sent (cchc.unit_mail). Dated like ref_units: a new address closes the old row
-- (valid_to) and opens a new one; a unit may have several addresses valid at once.
CREATE TABLE IF NOT EXISTS ref_unit_contacts (
    unit_code   VARCHAR(16)  NOT NULL,
    email       VARCHAR(254) NOT NULL,
    valid_from  DATE         NOT NULL,
    valid_to    DATE,
    PRIMARY KEY (unit_code, email, valid_from)
);
