/*
 * The .pgpolicy policy language and the .pgtest test language (docs/language.md).
 *
 * Both languages share one lexer so that strings, comments, IP literals and durations read the
 * same in a policy and in its tests. Keywords are lower case. Words that only have a meaning in
 * one position (action names, heuristics, audit levels, session attributes) are plain
 * identifiers here and are checked by the compiler, which gives better messages ("unknown action
 * 'selct'") than a syntax error would. Words the grammar needs as keywords stay usable as names
 * through the `ident` rule, except the expression operators.
 */
grammar PolicyGrammar;

// ---------------------------------------------------------------- policy files

policyFile : statement* EOF ;

statement
    : annotation* ruleStatement                                  # annotatedRule
    | ROLE name=ident ASSIGN expr SEMI                           # roleStatement
    | LIMIT principal LBRACE (limitEntry SEMI)* RBRACE SEMI?     # limitStatement
    | GUARD principal heuristic=ident guardAction SEMI           # guardStatement
    | AUDIT principal level=ident SEMI                           # auditStatement
    | MODE modeName=ident SEMI                                       # modeStatement
    ;

ruleStatement
    : effect=(ALLOW | DENY) principal actionList (ON resourceList)?
      (WHEN whenExpr=expr)? (UNLESS unlessExpr=expr)? SEMI        # accessRule
    | MASK principal columnList WITH maskCall (WHEN whenExpr=expr)? SEMI   # maskRule
    ;

annotation : AT name=ident LPAREN annotationValue RPAREN ;
annotationValue : STRING | ident ;

principal : principalTerm (COMMA principalTerm)* ;
principalTerm
    : ANY                                                        # anyPrincipal
    | BANG? ident                                                # rolePrincipal
    ;

actionList : ident (COMMA ident)* ;

resourceList : resource (COMMA resource)* ;
resource : kind=(TABLE | COLUMN | FUNCTION | SCHEMA | DATABASE)? namePattern ;
columnList : columnPattern (COMMA columnPattern)* ;
columnPattern : COLUMN? namePattern ;

// payments.customers, *.audit_*, pg_read_*, "Quoted"."Mixed"
namePattern : namePart (DOT namePart)* ;
namePart : ident | GLOB | STRING ;

maskCall : name=ident LPAREN (literal (COMMA literal)*)? RPAREN ;
literal : STRING | INT ;

limitEntry
    : QUERIES INT PER SECOND PER scope=ident                     # queriesLimit
    | CONCURRENT INT PER scope=ident                             # concurrentLimit
    | CONNECTIONS INT PER scope=ident                            # connectionsLimit
    | ROWS INT PER QUERY                                         # rowsLimit
    | STATEMENT_TIMEOUT DURATION                                 # statementTimeoutLimit
    | IDLE DURATION                                              # idleLimit
    | IDLE_IN_TRANSACTION DURATION                               # idleInTransactionLimit
    ;

guardAction : DENY | ident ;

// ---------------------------------------------------------------- expressions

expr : orExpr ;
orExpr : andExpr (OR andExpr)* ;
andExpr : notExpr (AND notExpr)* ;
notExpr
    : NOT notExpr                                                # negation
    | predicate                                                  # predicateExpr
    ;
predicate
    : LPAREN expr RPAREN                                         # parenthesized
    | left=operand op=(EQ | NE | LT | LE | GT | GE) right=operand   # comparison
    | left=operand NOT? IN LPAREN operand (COMMA operand)* RPAREN  # inList
    | left=operand NOT? IN right=operand                         # inValue
    | left=operand MATCHES STRING                                # matches
    | left=operand STARTS_WITH STRING                            # startsWith
    | left=operand NOT? BETWEEN low=operand AND high=operand     # between
    | operand                                                    # bareOperand
    ;
operand
    : ident                                                      # nameOperand
    | STRING                                                     # stringOperand
    | INT                                                        # intOperand
    | (TRUE | FALSE)                                             # boolOperand
    | (IPV4 | IPV6)                                              # ipOperand
    ;

// ---------------------------------------------------------------- test files

testFile : testCase* EOF ;
testCase : TEST STRING LBRACE testStep* RBRACE ;
testStep
    : AS sessionItem+ SEMI                                       # asStep
    | QUERY STRING SEMI                                          # queryStep
    | EXPECT expectation SEMI                                    # expectStep
    ;
// user "ana", groups ("a", "b"), from 10.1.2.3, app "metabase", at "2026-03-04T10:00:00Z", ...
sessionItem : key=ident sessionValue ;
sessionValue
    : STRING                                                     # stringValue
    | LPAREN (STRING (COMMA STRING)*)? RPAREN                    # listValue
    | (TRUE | FALSE)                                             # boolValue
    | (IPV4 | IPV6)                                              # ipValue
    ;
expectation
    : ALLOW                                                      # expectAllow
    | DENY (BY STRING (COMMA STRING)*)?                          # expectDeny
    | MASK namePattern WITH name=ident (LPAREN (literal (COMMA literal)*)? RPAREN)?   # expectMask
    | WARN heuristic=ident                                       # expectWarn
    ;

// Keywords that may also serve as names (a role, an attribute, a table part).
ident
    : IDENT
    | ROLE | ALLOW | DENY | MASK | LIMIT | GUARD | AUDIT | MODE | ON | WHEN | UNLESS | WITH
    | TABLE | COLUMN | FUNCTION | SCHEMA | DATABASE | PER | QUERIES | CONCURRENT | CONNECTIONS
    | ROWS | SECOND | STATEMENT_TIMEOUT | IDLE | IDLE_IN_TRANSACTION | TEST | AS | QUERY
    | EXPECT | BY | WARN
    ;

// ---------------------------------------------------------------- lexer

ROLE : 'role' ;
ALLOW : 'allow' ;
DENY : 'deny' ;
MASK : 'mask' ;
LIMIT : 'limit' ;
GUARD : 'guard' ;
AUDIT : 'audit' ;
MODE : 'mode' ;
ON : 'on' ;
WHEN : 'when' ;
UNLESS : 'unless' ;
WITH : 'with' ;
ANY : 'any' ;
TABLE : 'table' ;
COLUMN : 'column' ;
FUNCTION : 'function' ;
SCHEMA : 'schema' ;
DATABASE : 'database' ;
PER : 'per' ;
QUERIES : 'queries' ;
CONCURRENT : 'concurrent' ;
CONNECTIONS : 'connections' ;
ROWS : 'rows' ;
SECOND : 'second' ;
STATEMENT_TIMEOUT : 'statement_timeout' ;
IDLE : 'idle' ;
IDLE_IN_TRANSACTION : 'idle_in_transaction' ;
AND : 'and' ;
OR : 'or' ;
NOT : 'not' ;
IN : 'in' ;
MATCHES : 'matches' ;
STARTS_WITH : 'starts_with' ;
BETWEEN : 'between' ;
TRUE : 'true' ;
FALSE : 'false' ;
TEST : 'test' ;
AS : 'as' ;
QUERY : 'query' ;
EXPECT : 'expect' ;
BY : 'by' ;
WARN : 'warn' ;

EQ : '==' ;
NE : '!=' ;
LE : '<=' ;
GE : '>=' ;
LT : '<' ;
GT : '>' ;
ASSIGN : '=' ;
BANG : '!' ;
AT : '@' ;
SEMI : ';' ;
COMMA : ',' ;
DOT : '.' ;
LPAREN : '(' ;
RPAREN : ')' ;
LBRACE : '{' ;
RBRACE : '}' ;

// Longest match keeps these apart: 10.0.0.0/8 is one IPV4 token, 30s one DURATION, 30 an INT.
IPV4 : DIGIT+ '.' DIGIT+ '.' DIGIT+ '.' DIGIT+ ('/' DIGIT+)? ;
// Any run with a colon: the only place the language uses ':' is an IPv6 address. The AST
// builder validates the text, so `:::` is reported as a bad address rather than as noise.
IPV6 : HEX* ':' (HEX | ':' | '.')* ('/' DIGIT+)? ;
DURATION : DIGIT+ ('ms' | 's' | 'm' | 'h') ;
INT : DIGIT+ ;
// As PostgreSQL's identifiers: letters (any non-ASCII character counts as one), digits, _ and $.
IDENT : IDENT_START IDENT_PART* ;
// A name pattern part with at least one '*'.
GLOB : (IDENT_PART | '*')* '*' (IDENT_PART | '*')* ;

// Escapes are checked by the AST builder so that `\n` gets a precise message.
STRING : '"' ('\\' . | ~["\\])* '"' ;
UNTERMINATED_STRING : '"' ('\\' . | ~["\\])* ;

LINE_COMMENT : ('#' | '//') ~[\r\n]* -> skip ;
BLOCK_COMMENT : '/*' .*? '*/' -> skip ;
// Shorter than BLOCK_COMMENT whenever a closing */ exists, so it only wins at end of input.
UNTERMINATED_COMMENT : '/*' (~'*' | '*'+ ~[*/])* '*'* ;
WS : [ \t\r\n\f\u00a0\ufeff]+ -> skip ;

// Anything else becomes a token the parser rejects with its position, so the lexer never fails.
ERROR_CHAR : . ;

// Non-ASCII, minus C1 controls, the no-break space and the byte-order mark (white space here).
fragment IDENT_START : [a-zA-Z_\u00A1-\uFEFE\uFF00-\uFFFD] ;
fragment IDENT_PART : [a-zA-Z0-9_$\u00A1-\uFEFE\uFF00-\uFFFD] ;
fragment DIGIT : [0-9] ;
fragment HEX : [0-9a-fA-F] ;
