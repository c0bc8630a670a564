-- Schema for the SQL analysis accuracy corpus (corpus.sql). Three schemas, including a quoted
-- mixed-case one, so that folding and quoting are exercised. No views, partitions or
-- inheritance: EXPLAIN expands those into other relations, which would compare plans, not names.
CREATE SCHEMA payments;
CREATE SCHEMA hr;
CREATE SCHEMA "Sales";

CREATE TABLE customers (
    id serial PRIMARY KEY,
    name text NOT NULL,
    email text,
    ssn text,
    card_number text,
    country text,
    created_at timestamptz DEFAULT now(),
    data jsonb DEFAULT '{}',
    tags text[] DEFAULT '{}'
);
CREATE TABLE categories (id serial PRIMARY KEY, name text NOT NULL, parent_id int);
CREATE TABLE products (
    id serial PRIMARY KEY,
    sku text UNIQUE,
    name text,
    price numeric(12, 2),
    attrs jsonb,
    category_id int REFERENCES categories (id)
);
CREATE TABLE orders (
    id serial PRIMARY KEY,
    customer_id int REFERENCES customers (id),
    total numeric(12, 2),
    status text,
    placed_at timestamptz DEFAULT now(),
    items jsonb
);
CREATE TABLE order_items (
    order_id int REFERENCES orders (id),
    product_id int REFERENCES products (id),
    qty int,
    price numeric(12, 2),
    PRIMARY KEY (order_id, product_id)
);
CREATE TABLE users (
    id serial PRIMARY KEY,
    username text UNIQUE,
    password_hash text,
    role text,
    active boolean DEFAULT true
);
CREATE TABLE audit_log (
    id bigserial PRIMARY KEY,
    actor text,
    action text,
    detail jsonb,
    at timestamptz DEFAULT now()
);
CREATE TABLE events (id bigserial PRIMARY KEY, kind text, payload jsonb, occurred_at timestamptz);
CREATE TABLE "MixedCase" ("Id" int PRIMARY KEY, "Value" text, lower_col int);

CREATE TABLE payments.cards (
    id serial PRIMARY KEY,
    customer_id int REFERENCES customers (id),
    card_number text,
    expiry date,
    holder text
);
CREATE TABLE payments.transactions (
    id bigserial PRIMARY KEY,
    card_id int REFERENCES payments.cards (id),
    amount numeric(12, 2),
    currency char(3),
    status text,
    created_at timestamptz DEFAULT now()
);
CREATE TABLE payments.refunds (
    id serial PRIMARY KEY,
    transaction_id bigint REFERENCES payments.transactions (id),
    amount numeric(12, 2),
    reason text
);

CREATE TABLE hr.departments (id serial PRIMARY KEY, name text, budget numeric);
CREATE TABLE hr.employees (
    id serial PRIMARY KEY,
    name text,
    manager_id int,
    salary numeric,
    dept_id int REFERENCES hr.departments (id),
    hired date
);

CREATE TABLE "Sales"."Orders" (
    "OrderId" serial PRIMARY KEY,
    "CustomerId" int,
    "Amount" numeric,
    "Region" text
);
CREATE TABLE "Sales"."Region Targets" ("Region" text PRIMARY KEY, "Target" numeric);
CREATE TABLE "Sales".quarterly (region text, quarter int, revenue numeric, PRIMARY KEY (region, quarter));
