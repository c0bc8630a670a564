-- Sample data for `pgpolicy demo`: a small payments system holding personal data.
--
-- Every value is fake by construction:
--   * names pair computing pioneers' first and last names at random ("Grace Knuth");
--   * e-mail addresses use example.com / example.org, reserved for documentation (RFC 2606);
--   * social security numbers start with 9, an area number the US SSA never issues;
--   * card numbers use the 400000 test prefix and a valid Luhn check digit, like the test cards
--     payment providers publish, so format checks accept them but no bank does.
--
-- Runs as the superuser in the demo database, after the launcher created the login roles
-- app (the application), analyst (reporting) and dba (owns the schema), each with a password.

\set ON_ERROR_STOP on
SET client_min_messages = warning;

-- Completes a card number with its Luhn check digit (ISO/IEC 7812-1, Annex B): from the right,
-- every second digit of the payload, starting with the rightmost, is doubled (minus 9 above 9).
CREATE FUNCTION pg_temp.with_luhn_digit(payload text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT payload || ((10 - sum(CASE WHEN i % 2 = 1
                                      THEN (d * 2) / 10 + (d * 2) % 10
                                      ELSE d END) % 10) % 10)::text
    FROM (SELECT i, substr(reverse(payload), i, 1)::int AS d
          FROM generate_series(1, length(payload)) AS i) AS digits
$$;

CREATE SCHEMA payments AUTHORIZATION dba;
COMMENT ON SCHEMA payments IS 'Demo payments system with personal data (all values fake)';

CREATE TABLE payments.customers (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    full_name     text        NOT NULL,
    email         text        NOT NULL UNIQUE,
    ssn           text        NOT NULL CHECK (ssn ~ '^9[0-9]{2}-[0-9]{2}-[0-9]{4}$'),
    card_number   text        NOT NULL CHECK (card_number ~ '^[0-9]{16}$'),
    date_of_birth date        NOT NULL,
    country       char(2)     NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
COMMENT ON COLUMN payments.customers.ssn IS 'personal data: national identifier';
COMMENT ON COLUMN payments.customers.card_number IS 'cardholder data (PCI DSS): primary account number';

CREATE TABLE payments.orders (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint        NOT NULL REFERENCES payments.customers (id),
    amount      numeric(10,2) NOT NULL CHECK (amount > 0),
    currency    char(3)       NOT NULL DEFAULT 'EUR',
    status      text          NOT NULL CHECK (status IN ('pending', 'paid', 'refunded', 'failed')),
    card_last4  char(4)       NOT NULL,
    created_at  timestamptz   NOT NULL DEFAULT now()
);
CREATE INDEX orders_customer_id ON payments.orders (customer_id);

INSERT INTO payments.customers (full_name, email, ssn, card_number, date_of_birth, country, created_at)
SELECT first_name || ' ' || last_name,
       lower(first_name) || '.' || lower(replace(last_name, '-', '')) || n
           || CASE WHEN n % 3 = 0 THEN '@example.org' ELSE '@example.com' END,
       '9' || lpad((n * 37 % 100)::text, 2, '0') || '-' || lpad((n * 53 % 100)::text, 2, '0')
           || '-' || lpad((n * 7919 % 10000)::text, 4, '0'),
       pg_temp.with_luhn_digit('400000' || lpad((n::bigint * 104729 % 1000000000)::text, 9, '0')),
       date '1950-01-01' + (n * 3571 % 18250),
       (ARRAY['DE', 'FR', 'NL', 'ES', 'IT', 'SE', 'PL', 'IE', 'PT', 'BE'])[1 + n % 10],
       timestamptz '2024-01-01 00:00:00+00' + make_interval(mins => n * 97)
FROM generate_series(1, 5000) AS n,
     LATERAL (SELECT (ARRAY['Ada', 'Alan', 'Grace', 'Linus', 'Margaret', 'Ken', 'Barbara', 'Edsger',
                            'Frances', 'Donald', 'Radia', 'Tim', 'Sophie', 'John', 'Hedy', 'Dennis',
                            'Anita', 'Niklaus', 'Leslie', 'Shafi'])[1 + n % 20] AS first_name,
                     (ARRAY['Lovelace', 'Turing', 'Hopper', 'Torvalds', 'Hamilton', 'Thompson', 'Liskov',
                            'Dijkstra', 'Allen', 'Knuth', 'Perlman', 'Berners-Lee', 'Wilson', 'McCarthy',
                            'Lamarr', 'Ritchie', 'Borg', 'Wirth', 'Lamport', 'Goldwasser'])[1 + (n * 7 + n / 20) % 20]
                         AS last_name) AS names;

INSERT INTO payments.orders (customer_id, amount, currency, status, card_last4, created_at)
SELECT c.id,
       round((5 + (n * 7717 % 49500) / 100.0)::numeric, 2),
       (ARRAY['EUR', 'EUR', 'EUR', 'USD', 'GBP'])[1 + n % 5],
       (ARRAY['paid', 'paid', 'paid', 'paid', 'pending', 'refunded', 'failed'])[1 + n % 7],
       right(c.card_number, 4),
       c.created_at + make_interval(hours => n % 5000)
FROM generate_series(1, 20000) AS n
JOIN payments.customers AS c ON c.id = 1 + (n * 7901) % 5000;

CREATE VIEW payments.daily_revenue AS
SELECT date_trunc('day', created_at)::date AS day, currency, count(*) AS orders, sum(amount) AS revenue
FROM payments.orders
WHERE status = 'paid'
GROUP BY 1, 2;

ALTER TABLE payments.customers OWNER TO dba;
ALTER TABLE payments.orders OWNER TO dba;
ALTER VIEW payments.daily_revenue OWNER TO dba;

-- Least privilege: only the three roles may connect; each sees what its job needs.
DO $$
BEGIN
    EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database());
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO app, analyst, dba', current_database());
END
$$;
GRANT USAGE ON SCHEMA payments TO app, analyst;
GRANT SELECT, INSERT, UPDATE ON payments.customers, payments.orders TO app;
GRANT SELECT ON payments.customers, payments.orders, payments.daily_revenue TO analyst;

ANALYZE payments.customers;
ANALYZE payments.orders;
