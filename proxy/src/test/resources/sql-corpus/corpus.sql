-- Statements for the SQL analysis accuracy test (SqlAnalysisAccuracyTest), written against
-- schema.sql. Entries are separated by lines of four dashes. Rules that keep the comparison with
-- EXPLAIN principled: every LEFT JOIN uses a column of its inner side (so join removal cannot drop
-- it), every non-modifying CTE is referenced (unreferenced ones are not planned), no view,
-- partition or inheritance child is read, and no condition is constant-false. Parameters ($n)
-- must have a type PostgreSQL can infer, since the test prepares such statements to explain them.
SELECT id, name FROM customers
----
SELECT * FROM customers WHERE id = 42
----
select ID, Name from CUSTOMERS where EMAIL like '%@example.com'
----
SELECT c.name, o.total FROM customers c JOIN orders o ON o.customer_id = c.id
----
SELECT c.name, o.total FROM customers AS c INNER JOIN orders AS o ON o.customer_id = c.id WHERE o.status = 'paid'
----
SELECT c.name, o.id FROM customers c LEFT JOIN orders o ON o.customer_id = c.id
----
SELECT c.name, o.id FROM customers c RIGHT JOIN orders o ON o.customer_id = c.id
----
SELECT c.name, o.id FROM customers c FULL OUTER JOIN orders o ON o.customer_id = c.id
----
SELECT c.name, p.name FROM customers c CROSS JOIN products p
----
SELECT c.name, o.total FROM customers c, orders o WHERE o.customer_id = c.id
----
SELECT o.id, oi.qty, p.name FROM orders o JOIN order_items oi ON oi.order_id = o.id JOIN products p ON p.id = oi.product_id
----
SELECT o.id, count(*) FROM orders o JOIN payments.cards k USING (customer_id) GROUP BY o.id
----
SELECT order_id, product_id FROM order_items JOIN orders ON orders.id = order_items.order_id
----
SELECT * FROM orders NATURAL JOIN order_items
----
SELECT status, count(*), sum(total) FROM orders GROUP BY status HAVING count(*) > 10 ORDER BY 2 DESC
----
SELECT country, count(*) AS n FROM customers GROUP BY country ORDER BY n DESC LIMIT 10
----
SELECT DISTINCT country FROM customers
----
SELECT DISTINCT ON (customer_id) customer_id, placed_at, total FROM orders ORDER BY customer_id, placed_at DESC
----
SELECT * FROM customers ORDER BY created_at DESC NULLS LAST LIMIT 20 OFFSET 40
----
SELECT * FROM customers ORDER BY id FETCH FIRST 5 ROWS ONLY
----
SELECT name FROM customers WHERE id IN (SELECT customer_id FROM orders WHERE total > 100)
----
SELECT name FROM customers c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id)
----
SELECT name FROM customers c WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id)
----
SELECT name FROM customers WHERE id NOT IN (SELECT customer_id FROM payments.cards WHERE customer_id IS NOT NULL)
----
SELECT name, (SELECT count(*) FROM orders o WHERE o.customer_id = c.id) AS order_count FROM customers c
----
SELECT (SELECT max(total) FROM orders) AS biggest
----
SELECT id FROM orders WHERE total > (SELECT avg(total) FROM orders)
----
SELECT id FROM orders WHERE total > ALL (SELECT amount FROM payments.refunds)
----
SELECT id FROM orders WHERE customer_id = ANY (SELECT customer_id FROM payments.cards)
----
SELECT * FROM (SELECT customer_id, sum(total) AS spent FROM orders GROUP BY customer_id) s WHERE s.spent > 1000
----
SELECT s.customer_id FROM (SELECT customer_id FROM orders UNION SELECT customer_id FROM payments.cards) AS s
----
SELECT x.n FROM (VALUES (1), (2), (3)) AS x(n)
----
SELECT c.name, v.label FROM customers c JOIN (VALUES ('DE', 'Germany'), ('FR', 'France')) AS v(code, label) ON v.code = c.country
----
SELECT c.name, last.total FROM customers c CROSS JOIN LATERAL (SELECT total FROM orders o WHERE o.customer_id = c.id ORDER BY placed_at DESC LIMIT 1) AS last
----
SELECT c.name, l.total FROM customers c LEFT JOIN LATERAL (SELECT total FROM orders o WHERE o.customer_id = c.id LIMIT 3) l ON true
----
SELECT c.id, t.tag FROM customers c, LATERAL unnest(c.tags) AS t(tag)
----
SELECT g FROM generate_series(1, 10) AS g
----
SELECT c.name, g.n FROM customers c, generate_series(1, 3) AS g(n)
----
SELECT * FROM unnest(ARRAY[1, 2, 3]) WITH ORDINALITY AS u(v, i)
----
WITH big AS (SELECT * FROM orders WHERE total > 500) SELECT customer_id, count(*) FROM big GROUP BY customer_id
----
WITH a AS (SELECT id FROM customers), b AS (SELECT customer_id FROM orders) SELECT a.id FROM a JOIN b ON b.customer_id = a.id
----
WITH a AS MATERIALIZED (SELECT id, name FROM customers) SELECT * FROM a WHERE id < 10
----
WITH a AS NOT MATERIALIZED (SELECT id, name FROM customers) SELECT * FROM a WHERE id < 10
----
WITH RECURSIVE tree AS (SELECT id, parent_id, name FROM categories WHERE parent_id IS NULL UNION ALL SELECT c.id, c.parent_id, c.name FROM categories c JOIN tree t ON c.parent_id = t.id) SELECT * FROM tree
----
WITH RECURSIVE chain(id, manager_id, depth) AS (SELECT id, manager_id, 0 FROM hr.employees WHERE id = 1 UNION ALL SELECT e.id, e.manager_id, chain.depth + 1 FROM hr.employees e JOIN chain ON e.manager_id = chain.id) SELECT * FROM chain
----
WITH RECURSIVE nums(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM nums WHERE n < 100) SELECT sum(n) FROM nums
----
WITH orders AS (SELECT * FROM payments.transactions) SELECT count(*) FROM orders
----
WITH customers AS (SELECT * FROM customers WHERE country = 'DE') SELECT name FROM customers
----
WITH x AS (SELECT id FROM customers) SELECT * FROM x WHERE id IN (SELECT customer_id FROM orders)
----
WITH x AS (SELECT customer_id, total FROM orders), y AS (SELECT customer_id, sum(total) s FROM x GROUP BY customer_id) SELECT c.name, y.s FROM customers c JOIN y ON y.customer_id = c.id
----
SELECT id, total, row_number() OVER (PARTITION BY customer_id ORDER BY placed_at) FROM orders
----
SELECT id, total, sum(total) OVER (ORDER BY placed_at ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) FROM orders
----
SELECT id, rank() OVER w, dense_rank() OVER w FROM orders WINDOW w AS (PARTITION BY status ORDER BY total DESC)
----
SELECT customer_id, total, lag(total) OVER (PARTITION BY customer_id ORDER BY placed_at) AS prev FROM orders
----
SELECT name, salary, avg(salary) OVER (PARTITION BY dept_id) FROM hr.employees
----
SELECT dept_id, percentile_cont(0.5) WITHIN GROUP (ORDER BY salary) FROM hr.employees GROUP BY dept_id
----
SELECT count(*) FILTER (WHERE status = 'paid'), count(*) FILTER (WHERE status = 'open') FROM orders
----
SELECT string_agg(name, ', ' ORDER BY name) FROM customers
----
SELECT array_agg(DISTINCT country) FROM customers
----
SELECT country, count(*) FROM customers GROUP BY ROLLUP (country)
----
SELECT status, customer_id, sum(total) FROM orders GROUP BY GROUPING SETS ((status), (customer_id), ())
----
SELECT status, customer_id, sum(total) FROM orders GROUP BY CUBE (status, customer_id)
----
SELECT name FROM customers UNION SELECT name FROM products
----
SELECT name FROM customers UNION ALL SELECT holder FROM payments.cards
----
SELECT id FROM customers INTERSECT SELECT customer_id FROM orders
----
SELECT id FROM customers EXCEPT SELECT customer_id FROM orders
----
(SELECT id FROM customers ORDER BY id LIMIT 5) UNION ALL (SELECT id FROM products ORDER BY id LIMIT 5)
----
SELECT name FROM customers UNION SELECT name FROM products UNION SELECT name FROM hr.employees ORDER BY 1
----
SELECT 'customer' AS kind, count(*) FROM customers UNION ALL SELECT 'order', count(*) FROM orders
----
SELECT data->>'plan' AS plan FROM customers WHERE data->'flags' ? 'beta'
----
SELECT data #> '{address,city}' FROM customers WHERE data @> '{"vip": true}'
----
SELECT id FROM customers WHERE data ?| ARRAY['a', 'b'] AND data ?& ARRAY['c']
----
SELECT payload->'items'->0->>'sku' FROM events WHERE kind = 'order'
----
SELECT jsonb_array_elements(items) FROM orders
----
SELECT o.id, i.value->>'sku' FROM orders o, jsonb_array_elements(o.items) AS i
----
SELECT id FROM events WHERE payload #>> '{a,b}' = 'x'
----
SELECT jsonb_build_object('id', id, 'name', name) FROM customers
----
SELECT to_jsonb(c) FROM customers c
----
SELECT row_to_json(t) FROM (SELECT id, name FROM customers) t
----
SELECT id, tags[1], tags[2:3] FROM customers
----
SELECT id FROM customers WHERE 'vip' = ANY (tags)
----
SELECT id FROM customers WHERE tags @> ARRAY['vip'] AND tags && ARRAY['beta', 'gamma']
----
SELECT array_length(tags, 1), cardinality(tags) FROM customers
----
SELECT ARRAY(SELECT id FROM orders o WHERE o.customer_id = c.id) FROM customers c
----
SELECT id::text, total::int, placed_at::date FROM orders
----
SELECT CAST(total AS bigint), CAST(id AS varchar(10)) FROM orders
----
SELECT '2024-01-01'::date + 1, interval '1 day' * 3
----
SELECT id FROM orders WHERE placed_at > now() - interval '30 days'
----
SELECT id FROM orders WHERE placed_at::date = current_date
----
SELECT date_trunc('month', placed_at) AS month, sum(total) FROM orders GROUP BY 1 ORDER BY 1
----
SELECT extract(year FROM hired), count(*) FROM hr.employees GROUP BY 1
----
SELECT name FROM customers WHERE name ILIKE 'a%' OR name ~* '^b'
----
SELECT name FROM customers WHERE name SIMILAR TO '(a|b)%'
----
SELECT id FROM orders WHERE total BETWEEN 10 AND 100
----
SELECT id FROM orders WHERE status IS DISTINCT FROM 'paid'
----
SELECT id FROM orders WHERE total IS NULL OR status IS NOT NULL
----
SELECT coalesce(email, 'none'), nullif(country, '') FROM customers
----
SELECT CASE WHEN total > 100 THEN 'big' WHEN total > 10 THEN 'medium' ELSE 'small' END FROM orders
----
SELECT greatest(total, 0), least(total, 1000) FROM orders
----
SELECT upper(name), lower(email), length(name), substring(name FROM 1 FOR 3) FROM customers
----
SELECT position('@' IN email), trim(both ' ' FROM name) FROM customers
----
SELECT name || ' <' || email || '>' FROM customers
----
SELECT format('%s:%s', id, name) FROM customers
----
SELECT $$dollar 'quoted' text$$ AS t, id FROM customers
----
SELECT $tag$ it's ; a ; body with $$ inside $tag$ AS t FROM products
----
SELECT id FROM customers WHERE name = E'O\'Brien' OR name = E'tab\there'
----
SELECT id FROM customers WHERE name = 'O''Brien'
----
SELECT U&'d\0061t\+000061' AS word, id FROM customers
----
SELECT id FROM U&"\0063ustomers"
----
SELECT id FROM U&"!0063ustomers" UESCAPE '!'
----
SELECT "Id", "Value" FROM "MixedCase"
----
SELECT m."Id", m.lower_col FROM public."MixedCase" m WHERE m."Value" IS NOT NULL
----
SELECT "OrderId", "Amount" FROM "Sales"."Orders" WHERE "Region" = 'EU'
----
SELECT o."Region", sum(o."Amount"), t."Target" FROM "Sales"."Orders" o JOIN "Sales"."Region Targets" t ON t."Region" = o."Region" GROUP BY o."Region", t."Target"
----
SELECT region, sum(revenue) FROM "Sales".quarterly GROUP BY region
----
SELECT * FROM "Sales".QUARTERLY
----
SELECT * FROM public.customers
----
SELECT * FROM PUBLIC.Customers
----
SELECT * FROM "public"."customers"
----
SELECT customers.id FROM customers
----
SELECT public.customers.id FROM public.customers
----
SELECT * FROM payments.cards c JOIN payments.transactions t ON t.card_id = c.id
----
SELECT t.id, r.amount FROM payments.transactions t JOIN payments.refunds r ON r.transaction_id = t.id
----
SELECT c.name, t.amount FROM customers c JOIN payments.cards k ON k.customer_id = c.id JOIN payments.transactions t ON t.card_id = k.id WHERE t.status = 'settled'
----
SELECT sum(amount) FROM payments.transactions WHERE currency = 'EUR' AND created_at >= date_trunc('day', now())
----
SELECT e.name, d.name FROM hr.employees e JOIN hr.departments d ON d.id = e.dept_id
----
SELECT e.name, m.name AS manager FROM hr.employees e LEFT JOIN hr.employees m ON m.id = e.manager_id
----
SELECT d.name, count(e.id) FROM hr.departments d LEFT JOIN hr.employees e ON e.dept_id = d.id GROUP BY d.name
----
SELECT * FROM customers WHERE id = 1 FOR UPDATE
----
SELECT * FROM orders WHERE status = 'open' FOR UPDATE SKIP LOCKED LIMIT 10
----
SELECT * FROM orders o JOIN customers c ON c.id = o.customer_id FOR SHARE OF o
----
SELECT * FROM orders FOR NO KEY UPDATE NOWAIT
----
TABLE customers
----
TABLE payments.cards
----
VALUES (1, 'a'), (2, 'b')
----
SELECT 1
----
SELECT now(), version()
----
SELECT count(*) FROM pg_catalog.pg_class
----
SELECT relname FROM pg_class WHERE relkind = 'r'
----
SELECT c.relname, n.nspname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'
----
SELECT attname FROM pg_attribute WHERE attrelid = 'customers'::regclass AND attnum > 0
----
SELECT typname FROM pg_type WHERE oid = 23
----
SELECT id FROM customers WHERE id = 5 OR 1 = 1
----
SELECT id FROM users WHERE username = 'admin' AND 1 = 1
----
SELECT name FROM products WHERE id = 1 UNION SELECT NULL
----
SELECT id FROM customers /* a comment */ WHERE /* nested /* comment */ here */ id = 3
----
SELECT id -- trailing comment
FROM customers
----
SELECT id FROM customers WHERE id = 7 /* app=web,trace=abc123 */
----
SELECT name FROM customers WHERE email = 'a@b.c' /*controller='users',action='show',traceparent='00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'*/
----
SELECT pg_sleep(0)
----
SELECT id FROM customers WHERE pg_sleep(0) IS NOT NULL
----
SELECT c.* FROM customers c
----
SELECT o.*, c.name FROM orders o JOIN customers c ON c.id = o.customer_id
----
SELECT count(DISTINCT customer_id) FROM orders
----
SELECT customer_id FROM orders GROUP BY customer_id HAVING sum(total) > (SELECT avg(total) * 10 FROM orders)
----
SELECT c.name FROM customers c WHERE c.id = (SELECT customer_id FROM orders ORDER BY total DESC LIMIT 1)
----
SELECT name FROM customers WHERE (id, country) IN (SELECT customer_id, 'DE' FROM orders)
----
SELECT name FROM products WHERE category_id IN (SELECT id FROM categories WHERE parent_id IN (SELECT id FROM categories WHERE name = 'root'))
----
SELECT p.name, c.name FROM products p JOIN categories c ON c.id = p.category_id LEFT JOIN categories parent ON parent.id = c.parent_id WHERE parent.name IS NOT NULL
----
SELECT p.sku, p.attrs->>'color' FROM products p WHERE p.attrs ? 'color' ORDER BY p.attrs->>'color'
----
SELECT u.username FROM users u WHERE u.active AND u.role = 'admin'
----
SELECT username FROM users WHERE NOT active
----
SELECT actor, count(*) FROM audit_log WHERE at > now() - interval '1 hour' GROUP BY actor
----
SELECT * FROM audit_log WHERE detail->>'table' = 'customers' ORDER BY at DESC LIMIT 100
----
SELECT kind, date_trunc('hour', occurred_at), count(*) FROM events GROUP BY 1, 2
----
SELECT e.id FROM events e WHERE e.payload @> jsonb_build_object('customer', (SELECT max(id) FROM customers))
----
SELECT id FROM orders WHERE id = ANY ('{1,2,3}'::int[])
----
SELECT id FROM orders WHERE id IN (1, 2, 3, 4, 5)
----
SELECT id FROM orders WHERE status IN ('a', 'b') AND customer_id NOT IN (1, 2)
----
SELECT * FROM orders o WHERE o.total > 10 AND (o.status = 'paid' OR o.status = 'shipped')
----
SELECT * FROM customers WHERE 1 = 1 AND country = 'DE' AND email IS NOT NULL
----
SELECT sum(oi.qty * oi.price) FROM order_items oi JOIN orders o ON o.id = oi.order_id WHERE o.customer_id = 1
----
SELECT o.id FROM orders o WHERE o.total > 100 AND EXISTS (SELECT 1 FROM order_items oi JOIN products p ON p.id = oi.product_id WHERE oi.order_id = o.id AND p.price > 50)
----
SELECT c.id, (SELECT string_agg(p.name, ',') FROM order_items oi JOIN products p ON p.id = oi.product_id JOIN orders o ON o.id = oi.order_id WHERE o.customer_id = c.id) FROM customers c
----
SELECT x.id FROM (SELECT id FROM (SELECT id FROM customers) inner_most) x
----
SELECT * FROM (customers c JOIN orders o ON o.customer_id = c.id)
----
SELECT c.name FROM customers c JOIN (orders o JOIN order_items oi ON oi.order_id = o.id) ON o.customer_id = c.id
----
SELECT name FROM customers c WHERE c.id IN (SELECT o.customer_id FROM orders o WHERE o.id IN (SELECT order_id FROM order_items WHERE qty > 5))
----
SELECT 'x' AS label, name FROM products WHERE price > 10 UNION ALL SELECT 'y', name FROM categories
----
SELECT id, name FROM customers WHERE name LIKE 'A%' ESCAPE '!'
----
SELECT id FROM customers WHERE created_at AT TIME ZONE 'UTC' > '2024-01-01'
----
SELECT md5(name), sha256(convert_to(name, 'UTF8')) FROM customers
----
SELECT to_char(placed_at, 'YYYY-MM-DD'), round(total, 1) FROM orders
----
SELECT count(*) OVER (), id FROM orders
----
SELECT id FROM orders ORDER BY total DESC, id LIMIT ALL
----
SELECT id FROM customers WHERE id = 10 AND (SELECT count(*) FROM orders WHERE customer_id = 10) > 0
----
SELECT e.name FROM hr.employees e WHERE e.salary > (SELECT avg(salary) FROM hr.employees x WHERE x.dept_id = e.dept_id)
----
SELECT d.name, (SELECT max(salary) FROM hr.employees e WHERE e.dept_id = d.id) FROM hr.departments d
----
SELECT "Region", "Target" FROM "Sales"."Region Targets" WHERE "Target" > (SELECT avg("Amount") FROM "Sales"."Orders")
----
WITH s AS (SELECT "Region", sum("Amount") AS total FROM "Sales"."Orders" GROUP BY "Region") SELECT s."Region", s.total, t."Target" FROM s JOIN "Sales"."Region Targets" t USING ("Region")
----
SELECT q.region, q.revenue - lag(q.revenue) OVER (PARTITION BY q.region ORDER BY q.quarter) FROM "Sales".quarterly q
----
INSERT INTO customers (name, email) VALUES ('Ana', 'ana@example.com')
----
INSERT INTO customers (name, email, country) VALUES ('A', 'a@x', 'DE'), ('B', 'b@x', 'FR'), ('C', 'c@x', 'IT')
----
INSERT INTO customers (name) VALUES ('x') RETURNING id, created_at
----
INSERT INTO customers DEFAULT VALUES RETURNING id
----
insert into CUSTOMERS(NAME, DATA) values ('J', '{"vip": true}'::jsonb)
----
INSERT INTO customers (name, tags) VALUES ('T', ARRAY['a', 'b'])
----
INSERT INTO customers (name, tags) VALUES ('T', '{a,b}')
----
INSERT INTO orders (customer_id, total, status) SELECT id, 0, 'new' FROM customers WHERE country = 'DE'
----
INSERT INTO audit_log (actor, action, detail) SELECT 'system', 'snapshot', to_jsonb(c) FROM customers c
----
INSERT INTO payments.refunds (transaction_id, amount, reason) SELECT id, amount, 'bulk' FROM payments.transactions WHERE status = 'failed'
----
INSERT INTO hr.employees (name, dept_id) VALUES ('N', (SELECT id FROM hr.departments WHERE name = 'R&D'))
----
INSERT INTO products (sku, name, price) VALUES ('S1', 'Widget', 9.99) ON CONFLICT (sku) DO NOTHING
----
INSERT INTO products (sku, name, price) VALUES ('S1', 'Widget', 9.99) ON CONFLICT (sku) DO UPDATE SET price = EXCLUDED.price, name = EXCLUDED.name
----
INSERT INTO products AS p (sku, name, price) VALUES ('S1', 'W', 1) ON CONFLICT (sku) DO UPDATE SET price = p.price + EXCLUDED.price WHERE p.price < 100 RETURNING p.id
----
INSERT INTO products (sku, name) VALUES ('S2', 'Gadget') ON CONFLICT ON CONSTRAINT products_sku_key DO NOTHING
----
INSERT INTO users (username, role) VALUES ('bob', 'user') ON CONFLICT (username) DO UPDATE SET role = EXCLUDED.role RETURNING *
----
INSERT INTO "MixedCase" ("Id", "Value") VALUES (1, 'one')
----
INSERT INTO "Sales"."Orders" ("CustomerId", "Amount", "Region") VALUES (1, 10, 'EU') RETURNING "OrderId"
----
INSERT INTO "Sales".quarterly (region, quarter, revenue) VALUES ('EU', 1, 100) ON CONFLICT (region, quarter) DO UPDATE SET revenue = "Sales".quarterly.revenue + EXCLUDED.revenue
----
INSERT INTO events (kind, payload, occurred_at) VALUES ('login', jsonb_build_object('user', 'ana'), now())
----
INSERT INTO events (kind, payload) SELECT 'order', to_jsonb(o) FROM orders o WHERE o.placed_at > now() - interval '1 day'
----
INSERT INTO audit_log (actor, action) VALUES ($$it's$$, E'quote\'d')
----
INSERT INTO order_items (order_id, product_id, qty, price) SELECT o.id, p.id, 1, p.price FROM orders o CROSS JOIN products p WHERE o.id = 1
----
WITH new_order AS (INSERT INTO orders (customer_id, total) VALUES (1, 10) RETURNING id) INSERT INTO order_items (order_id, product_id, qty) SELECT id, 1, 1 FROM new_order
----
WITH src AS (SELECT id, email FROM customers WHERE email IS NOT NULL) INSERT INTO audit_log (actor, action) SELECT email, 'import' FROM src
----
UPDATE customers SET email = 'new@example.com' WHERE id = 1
----
UPDATE customers SET email = lower(email), country = upper(country)
----
UPDATE customers SET (email, country) = ('x@y', 'DE') WHERE id = 2
----
UPDATE customers SET data = data || '{"vip": true}'::jsonb WHERE id = 3 RETURNING data
----
UPDATE customers SET tags = array_append(tags, 'vip') WHERE 'gold' = ANY (tags)
----
UPDATE orders SET status = 'vip' FROM customers WHERE customers.id = orders.customer_id AND customers.data->>'vip' = 'true'
----
UPDATE orders o SET total = s.sum FROM (SELECT order_id, sum(qty * price) AS sum FROM order_items GROUP BY order_id) s WHERE s.order_id = o.id
----
UPDATE orders SET total = (SELECT sum(qty * price) FROM order_items WHERE order_items.order_id = orders.id)
----
UPDATE orders SET status = 'cancelled' WHERE customer_id IN (SELECT id FROM customers WHERE country = 'XX') RETURNING id, status
----
UPDATE payments.transactions t SET status = 'refunded' FROM payments.refunds r WHERE r.transaction_id = t.id
----
UPDATE hr.employees SET salary = salary * 1.05 WHERE dept_id = (SELECT id FROM hr.departments WHERE name = 'Sales')
----
UPDATE hr.employees e SET manager_id = m.id FROM hr.employees m WHERE m.name = 'Boss' AND e.id <> m.id
----
UPDATE "Sales"."Orders" SET "Amount" = "Amount" * 2 WHERE "Region" = 'EU'
----
UPDATE "Sales"."Orders" o SET "Region" = t."Region" FROM "Sales"."Region Targets" t WHERE t."Target" > o."Amount"
----
UPDATE users SET active = false WHERE id IN (SELECT (detail->>'user_id')::int FROM audit_log WHERE action = 'ban')
----
UPDATE products SET attrs = jsonb_set(attrs, '{color}', '"red"') WHERE sku = 'S1'
----
WITH stale AS (SELECT id FROM orders WHERE placed_at < now() - interval '1 year') UPDATE orders SET status = 'archived' WHERE id IN (SELECT id FROM stale)
----
WITH moved AS (UPDATE orders SET status = 'moved' WHERE status = 'old' RETURNING id) INSERT INTO audit_log (actor, action, detail) SELECT 'job', 'move', jsonb_build_object('id', id) FROM moved
----
DELETE FROM audit_log WHERE at < now() - interval '90 days'
----
DELETE FROM customers WHERE id = 5 RETURNING *
----
DELETE FROM orders USING customers WHERE customers.id = orders.customer_id AND customers.country = 'XX'
----
DELETE FROM order_items oi USING orders o, customers c WHERE oi.order_id = o.id AND o.customer_id = c.id AND c.email IS NULL
----
DELETE FROM orders WHERE customer_id IN (SELECT id FROM customers WHERE email IS NULL)
----
DELETE FROM orders o WHERE NOT EXISTS (SELECT 1 FROM order_items oi WHERE oi.order_id = o.id)
----
DELETE FROM payments.refunds WHERE amount <= 0 RETURNING id, transaction_id
----
DELETE FROM "Sales"."Orders" WHERE "Amount" IS NULL
----
DELETE FROM hr.employees e USING hr.departments d WHERE d.id = e.dept_id AND d.budget = 0
----
DELETE FROM ONLY events WHERE kind = 'debug'
----
WITH gone AS (DELETE FROM events WHERE occurred_at < now() - interval '7 days' RETURNING *) INSERT INTO audit_log (actor, action, detail) SELECT 'gc', 'delete', to_jsonb(g) FROM gone g
----
WITH gone AS (DELETE FROM events WHERE kind = 'tmp' RETURNING id) SELECT count(*) FROM gone
----
WITH d AS (DELETE FROM payments.refunds WHERE amount = 0 RETURNING transaction_id) UPDATE payments.transactions SET status = 'clean' WHERE id IN (SELECT transaction_id FROM d)
----
WITH a AS (UPDATE customers SET country = 'DE' WHERE country = 'de' RETURNING id), b AS (DELETE FROM orders WHERE customer_id IN (SELECT id FROM a) RETURNING id) SELECT (SELECT count(*) FROM a), (SELECT count(*) FROM b)
----
MERGE INTO products p USING (VALUES ('S1', 'Widget', 5.0)) AS s(sku, name, price) ON p.sku = s.sku WHEN MATCHED THEN UPDATE SET price = s.price WHEN NOT MATCHED THEN INSERT (sku, name, price) VALUES (s.sku, s.name, s.price)
----
MERGE INTO "Sales".quarterly q USING "Sales"."Orders" o ON q.region = o."Region" AND q.quarter = 1 WHEN MATCHED THEN UPDATE SET revenue = q.revenue + o."Amount" WHEN NOT MATCHED THEN INSERT (region, quarter, revenue) VALUES (o."Region", 1, o."Amount")
----
MERGE INTO customers c USING orders o ON o.customer_id = c.id WHEN MATCHED AND o.status = 'fraud' THEN DELETE
----
MERGE INTO hr.departments d USING (SELECT dept_id, sum(salary) AS total FROM hr.employees GROUP BY dept_id) s ON s.dept_id = d.id WHEN MATCHED THEN UPDATE SET budget = s.total WHEN NOT MATCHED THEN DO NOTHING
----
MERGE INTO payments.transactions t USING payments.refunds r ON r.transaction_id = t.id WHEN MATCHED THEN UPDATE SET status = 'refunded'
----
SELECT id FROM customers WHERE email = 'x' OR 'a' = 'a'
----
SELECT id FROM customers WHERE email = '' OR true
----
SELECT id FROM customers WHERE email = '' OR 2 > 1
----
SELECT name FROM customers WHERE id = 1 UNION SELECT relname FROM pg_class
----
SELECT name, email FROM customers WHERE id = 1 UNION ALL SELECT NULL, NULL::text OFFSET 0
----
SELECT customers.name, orders.total FROM customers JOIN orders ON customers.id = orders.customer_id
----
SELECT c1.name, c2.name FROM customers c1 JOIN customers c2 ON c1.country = c2.country AND c1.id < c2.id
----
SELECT o.id FROM orders o WHERE o.customer_id IN (SELECT c.id FROM customers c WHERE c.country = 'DE') AND o.id IN (SELECT order_id FROM order_items)
----
SELECT name FROM customers WHERE email IS NOT NULL INTERSECT ALL SELECT holder FROM payments.cards
----
SELECT holder FROM payments.cards EXCEPT ALL SELECT name FROM customers
----
SELECT * FROM (SELECT * FROM customers UNION ALL SELECT * FROM customers) AS twice
----
SELECT id FROM customers WHERE id BETWEEN SYMMETRIC 10 AND 1
----
SELECT t.card_id, sum(t.amount) FILTER (WHERE t.currency = 'EUR') FROM payments.transactions t GROUP BY t.card_id
----
SELECT k.holder, t.amount FROM payments.cards k JOIN LATERAL (SELECT amount FROM payments.transactions x WHERE x.card_id = k.id ORDER BY created_at DESC LIMIT 1) t ON true
----
SELECT e.name FROM hr.employees e WHERE e.hired > DATE '2020-01-01'
----
SELECT e.name FROM hr.employees e WHERE e.hired > TIMESTAMP '2020-01-01 00:00:00'
----
SELECT name FROM hr.employees ORDER BY salary DESC NULLS FIRST
----
SELECT dept_id, max(salary) - min(salary) AS spread FROM hr.employees GROUP BY dept_id HAVING max(salary) > 1000
----
SELECT o.customer_id, jsonb_agg(o.items) FROM orders o GROUP BY o.customer_id
----
SELECT jsonb_object_agg(sku, price) FROM products
----
SELECT p.id FROM products p WHERE p.attrs @? '$.color'
----
SELECT p.id FROM products p WHERE jsonb_path_exists(p.attrs, '$.size ? (@ > 10)')
----
SELECT (data->>'age')::int + 1 FROM customers WHERE (data->>'age')::int > 18
----
SELECT id, total FROM orders WHERE (total, id) > (100, 5)
----
SELECT id FROM orders WHERE ROW(customer_id, status) = ROW(1, 'paid')
----
SELECT count(*) FROM orders WHERE placed_at >= '2024-01-01' AND placed_at < '2024-02-01'
----
SELECT id FROM customers WHERE name COLLATE "C" < 'm'
----
SELECT id FROM customers WHERE email ~ '^[a-z]+@' AND email !~ 'spam'
----
SELECT split_part(email, '@', 2) AS domain, count(*) FROM customers GROUP BY domain
----
SELECT regexp_replace(card_number, '\d{12}', '************') FROM payments.cards
----
SELECT id, total, total * 100 / sum(total) OVER () AS pct FROM orders
----
SELECT customer_id, ntile(4) OVER (ORDER BY total) FROM orders
----
SELECT first_value(name) OVER (PARTITION BY country ORDER BY created_at) FROM customers
----
SELECT country, mode() WITHIN GROUP (ORDER BY name) FROM customers GROUP BY country
----
SELECT bool_and(active), bool_or(active) FROM users
----
SELECT u.id FROM users u WHERE u.password_hash = md5('x' || u.username)
----
SELECT id FROM customers ORDER BY random() LIMIT 1
----
SELECT id FROM orders TABLESAMPLE SYSTEM (10)
----
SELECT o.id, c.name FROM orders o LEFT OUTER JOIN customers c ON c.id = o.customer_id WHERE c.country = 'DE' OR c.country IS NULL
----
SELECT a.id FROM customers a JOIN orders b ON a.id = b.customer_id JOIN order_items c ON c.order_id = b.id JOIN products d ON d.id = c.product_id JOIN categories e ON e.id = d.category_id
----
SELECT id FROM customers WHERE id = (SELECT customer_id FROM payments.cards WHERE id = (SELECT card_id FROM payments.transactions ORDER BY amount DESC LIMIT 1))
----
SELECT c.name, count(o.id) AS orders, coalesce(sum(o.total), 0) AS spent FROM customers c LEFT JOIN orders o ON o.customer_id = c.id GROUP BY c.id, c.name ORDER BY spent DESC
----
SELECT 1 FROM customers HAVING count(*) > 0
----
SELECT exists(SELECT 1 FROM users WHERE username = 'root')
----
SELECT CASE WHEN EXISTS (SELECT 1 FROM orders) THEN 'yes' ELSE 'no' END
----
SELECT coalesce((SELECT name FROM customers WHERE id = 1), 'nobody')
----
SELECT * FROM customers c WHERE c.id = ANY (ARRAY(SELECT customer_id FROM orders))
----
SELECT t.* FROM payments.transactions t WHERE t.amount > 0 ORDER BY t.created_at DESC
----
SELECT r.* , t.currency FROM payments.refunds r, payments.transactions t WHERE t.id = r.transaction_id
----
DECLARE cur CURSOR FOR SELECT id, name FROM customers WHERE country = 'DE'
----
DECLARE cur2 NO SCROLL CURSOR WITH HOLD FOR SELECT o.id FROM orders o JOIN order_items oi ON oi.order_id = o.id
----
CREATE TABLE customer_copy AS SELECT id, name FROM customers
----
CREATE TEMP TABLE big_orders AS SELECT o.* FROM orders o WHERE o.total > 1000
----
SELECT id, name INTO TEMP recent_customers FROM customers WHERE created_at > now() - interval '1 day'
----
CREATE MATERIALIZED VIEW order_totals AS SELECT customer_id, sum(total) FROM orders GROUP BY customer_id
----
SELECT
    c.id,
    c.name
FROM
    customers c
WHERE
    c.country = 'DE'
ORDER BY
    c.name
----
SELECT id FROM customers WHERE name = 'semi;colon' AND email = '--not a comment'
----
SELECT id FROM customers WHERE name = '/* not a comment */'
----
SELECT id FROM customers WHERE name = $$;DROP TABLE customers;$$
----
SELECT "id" FROM "customers" WHERE "name" = 'x'
----
SELECT c."name" AS "Customer Name" FROM customers c
----
SELECT id AS "select", name AS "from" FROM customers
----
SELECT 1 AS x FROM orders WHERE status = 'a' OR status = 'b' OR status = 'c'
----
SELECT id FROM orders WHERE NOT (status = 'paid' AND total > 0)
----
SELECT id FROM orders WHERE status = 'x' AND (total > 1 OR customer_id IS NULL)
----
SELECT abs(-5), -total, +total, total % 3, 2 ^ 3, |/ 16.0, @ -3 FROM orders
----
SELECT 10 >> 1, 1 << 4, 5 & 3, 5 | 3, 5 # 3, ~5
----
SELECT id FROM orders WHERE total::numeric(10,2) > 5.5e1
----
SELECT .5 + 1.5E-3 + 1e10
----
SELECT id FROM customers c WHERE c.created_at::timestamp(0) > now()::timestamp
----
SELECT tags::text FROM customers WHERE tags <> '{}'
----
SELECT id FROM customers WHERE data->'a'->'b' IS NOT NULL AND (data->>'c') IS NULL
----
SELECT p.name, c.name AS category FROM products p, categories c WHERE c.id = p.category_id AND p.price > 100 ORDER BY p.price
----
SELECT o.status, c.country, count(*) FROM orders o JOIN customers c ON c.id = o.customer_id GROUP BY o.status, c.country HAVING count(*) > 1
----
SELECT x FROM (SELECT 1 AS x UNION ALL SELECT 2) AS y
----
SELECT n FROM (SELECT id AS n FROM orders UNION SELECT id FROM order_items JOIN products ON products.id = order_items.product_id) u
----
SELECT * FROM customers WHERE id IN (SELECT customer_id FROM orders UNION SELECT customer_id FROM payments.cards)
----
SELECT * FROM orders WHERE id IN (SELECT order_id FROM order_items EXCEPT SELECT id FROM orders WHERE status = 'x')
----
SELECT id FROM customers WHERE email = lower($x$MIXED@Example.COM$x$)
----
SELECT c.id FROM customers c WHERE c.name = ANY (ARRAY['a', 'b']::text[]) AND c.id <> ALL ('{1,2}')
----
SELECT o.id FROM orders o WHERE o.items @? '$.sku' OR o.items @@ '$.qty > 1'
----
SELECT id FROM orders WHERE status = 'paid' UNION SELECT order_id FROM order_items WHERE qty > 1 ORDER BY 1 LIMIT 5
----
SELECT e.name FROM hr.employees e WHERE EXISTS (TABLE hr.departments)
----
SELECT sum(revenue) FILTER (WHERE quarter IN (1, 2)) AS h1, sum(revenue) FILTER (WHERE quarter IN (3, 4)) AS h2 FROM "Sales".quarterly
----
SELECT string_agg(DISTINCT "Region", ',') FROM "Sales"."Orders"
----
SELECT * FROM customers WHERE name ~~ 'A%' AND email !~~ '%spam%'
----
INSERT INTO "MixedCase" ("Id", "Value", lower_col) SELECT "CustomerId", "Region", 1 FROM "Sales"."Orders" ON CONFLICT ("Id") DO UPDATE SET "Value" = EXCLUDED."Value"
----
UPDATE customers SET name = substring(name FROM 1 FOR 10), email = trim(both ' ' FROM email) WHERE position('@' IN email) > 0
----
DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log ORDER BY at LIMIT 10 FOR UPDATE SKIP LOCKED) RETURNING id
----
SET search_path = public, payments
----
SET LOCAL statement_timeout = '5s'
----
SET ROLE app_reader
----
RESET ALL
----
SHOW server_version
----
BEGIN ISOLATION LEVEL REPEATABLE READ
----
COMMIT
----
ROLLBACK TO SAVEPOINT before_import
----
LISTEN order_events
----
NOTIFY order_events, 'created'
----
UNLISTEN *
----
LOCK TABLE orders, order_items IN SHARE ROW EXCLUSIVE MODE
----
TRUNCATE TABLE audit_log, events RESTART IDENTITY
----
VACUUM (VERBOSE, ANALYZE) customers, payments.cards (card_number)
----
ANALYZE hr.employees
----
REINDEX TABLE payments.transactions
----
CLUSTER orders USING orders_pkey
----
COPY customers (id, email) TO STDOUT WITH (FORMAT csv, HEADER true)
----
COPY payments.cards FROM STDIN (FORMAT binary)
----
COPY (SELECT c.name, t.amount FROM customers c JOIN payments.cards k ON k.customer_id = c.id JOIN payments.transactions t ON t.card_id = k.id) TO STDOUT
----
CREATE TABLE IF NOT EXISTS archive.orders_2020 (LIKE orders INCLUDING ALL)
----
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_status_idx ON orders (status) WHERE status <> 'done'
----
ALTER TABLE payments.cards ADD COLUMN last4 text GENERATED ALWAYS AS (right(card_number, 4)) STORED
----
ALTER TABLE IF EXISTS ONLY "Sales"."Orders" RENAME COLUMN "Amount" TO "Total"
----
DROP TABLE IF EXISTS tmp_a, tmp_b CASCADE
----
COMMENT ON COLUMN payments.cards.card_number IS 'PAN, masked for analysts'
----
CREATE OR REPLACE FUNCTION order_total(oid int) RETURNS numeric LANGUAGE sql STABLE AS $fn$ SELECT sum(qty * price) FROM order_items WHERE order_id = oid; $fn$
----
CREATE FUNCTION add_one(i int) RETURNS int LANGUAGE sql IMMUTABLE BEGIN ATOMIC SELECT i + 1; END
----
DO $do$ BEGIN RAISE NOTICE 'hello; world'; END $do$
----
CALL refresh_totals(42)
----
GRANT SELECT, INSERT ON TABLE orders, payments.cards TO app_writer
----
REVOKE ALL ON ALL TABLES IN SCHEMA payments FROM PUBLIC
----
CREATE ROLE analyst NOLOGIN
----
ALTER SYSTEM SET log_statement = 'all'
----
PREPARE fetch_customer (int) AS SELECT * FROM customers WHERE id = $1
----
EXECUTE fetch_customer(1)
----
DEALLOCATE fetch_customer
----
DISCARD ALL
----
CHECKPOINT
----
REFRESH MATERIALIZED VIEW CONCURRENTLY order_totals
----
WITH customers AS (SELECT 1 AS id) UPDATE customers SET name = 'x' WHERE id IN (SELECT id FROM customers)
----
WITH orders AS (SELECT id FROM payments.transactions) DELETE FROM orders WHERE id IN (SELECT id FROM orders)
----
SELECT * FROM ROWS FROM (generate_series(1, 2), generate_series(1, 3)) AS r(a, b)
----
SELECT country FROM customers GROUP BY DISTINCT ROLLUP (country), CUBE (country)
----
SELECT id FROM orders ORDER BY total USING >
----
SELECT id, total FROM orders ORDER BY total DESC FETCH FIRST 3 ROWS WITH TIES
----
SELECT * FROM orders TABLESAMPLE BERNOULLI (5) REPEATABLE (42)
----
SELECT * FROM orders WHERE status LIKE ANY (ARRAY['a%', 'b%'])
----
SELECT name FROM customers WHERE name ^@ 'A'
----
SELECT j.customer_id FROM orders o JOIN payments.cards k USING (customer_id) AS j WHERE j.customer_id > 0
----
UPDATE orders SET (status, total) = (SELECT 'recalculated', sum(qty * price) FROM order_items WHERE order_id = orders.id)
----
UPDATE customers SET country = DEFAULT WHERE country = ''
----
SELECT * FROM customers c FOR KEY SHARE OF c
----
SELECT (SELECT max(id) FROM orders) IS NULL AS empty, EXISTS (SELECT 1 FROM customers) AND NOT EXISTS (SELECT 1 FROM users)
----
SELECT jsonb_path_query(attrs, '$.sizes[*] ? (@ > $min)', '{"min": 2}') FROM products
----
SELECT xmlelement(name customer, xmlattributes(id AS id), name) FROM customers
----
INSERT INTO hr.employees OVERRIDING USER VALUE SELECT * FROM hr.employees WHERE id = 1
----
SELECT count(*) FROM customers c WHERE c.data IS NOT NULL AND (c.data -> 'address') ? 'city'
----
SELECT id, name FROM customers WHERE id = $1
----
SELECT * FROM customers WHERE email = $1 AND country = $2
----
SELECT o.id FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.country = $1 AND o.total > $2 ORDER BY o.placed_at DESC LIMIT $3
----
SELECT id FROM orders WHERE customer_id = ANY ($1::int[])
----
SELECT id FROM customers WHERE (name = $1 OR $1::text IS NULL) AND (country = $2 OR $2::text IS NULL)
----
INSERT INTO customers (name, email) VALUES ($1, $2) RETURNING id
----
INSERT INTO products (sku, name, price) VALUES ($1, $2, $3) ON CONFLICT (sku) DO UPDATE SET price = EXCLUDED.price
----
UPDATE payments.transactions SET status = $1 WHERE id = $2 AND status <> $1
----
UPDATE orders SET total = total + $1 FROM customers WHERE customers.id = orders.customer_id AND customers.email = $2
----
DELETE FROM payments.refunds WHERE transaction_id IN (SELECT id FROM payments.transactions WHERE card_id = $1)
----
WITH moved AS (DELETE FROM events WHERE kind = $1 RETURNING *) INSERT INTO audit_log (actor, action, detail) SELECT $2, 'purge', to_jsonb(m) FROM moved m
----
SELECT "OrderId" FROM "Sales"."Orders" WHERE "Region" = $1 AND "Amount" BETWEEN $2 AND $3
----
MERGE INTO hr.departments d USING hr.employees e ON e.dept_id = d.id AND e.id = $1 WHEN MATCHED THEN UPDATE SET budget = d.budget + $2
