package dev.pgpolicy.sql;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SqlLexerTest {

    private static List<Token> significant(String sql) {
        return SqlLexer.tokenize(sql).stream().filter(t -> !t.isTrivia()).toList();
    }

    private static Token only(String sql) {
        List<Token> tokens = significant(sql);
        assertThat(tokens).as(sql).hasSize(1);
        return tokens.get(0);
    }

    @Test
    void unquotedIdentifiersFoldToLowerCaseByAsciiRulesOnly() {
        Token token = only("CustomerS_É");
        assertThat(token.type()).isEqualTo(TokenType.WORD);
        assertThat(token.value()).isEqualTo("customers_É");
    }

    @Test
    void quotedIdentifiersKeepCaseAndDecodeDoubledQuotes() {
        Token token = only("\"My \"\"Table\"\"\"");
        assertThat(token.type()).isEqualTo(TokenType.QUOTED_IDENTIFIER);
        assertThat(token.value()).isEqualTo("My \"Table\"");
        assertThat(token.wellFormed()).isTrue();
    }

    @Test
    void emptyQuotedIdentifierIsMalformed() {
        assertThat(only("\"\"").wellFormed()).isFalse();
    }

    @Test
    void unicodeIdentifiersDecodeFourAndSixDigitEscapes() {
        Token token = only("U&\"d\\0061t\\+000061\"");
        assertThat(token.type()).isEqualTo(TokenType.QUOTED_IDENTIFIER);
        assertThat(token.value()).isEqualTo("data");
    }

    @Test
    void unicodeEscapeCharacterCanBeChangedWithUescape() {
        Token token = only("U&\"d!0061t!+000061\" UESCAPE '!'");
        assertThat(token.value()).isEqualTo("data");
        assertThat(token.wellFormed()).isTrue();
    }

    @Test
    void unicodeStringsDecodeSurrogatePairsAndRejectBadEscapes() {
        assertThat(only("U&'\\D83D\\DE00'").value()).isEqualTo("\uD83D\uDE00");
        assertThat(only("U&'\\zz'").wellFormed()).isFalse();
        assertThat(only("U&'x' UESCAPE '+'").wellFormed()).isFalse();
    }

    @Test
    void identifiersAreTruncatedTo63BytesLikeTheServer() {
        String longName = "a".repeat(70);
        assertThat(only(longName).value()).hasSize(63);
        // Two-byte characters are never split.
        assertThat(only("\"" + "é".repeat(40) + "\"").value()).isEqualTo("é".repeat(31));
    }

    @Test
    void standardStringsTreatBackslashAsAnOrdinaryCharacter() {
        List<Token> tokens = significant("'a\\' OR 1=1 --'");
        assertThat(tokens.get(0).type()).isEqualTo(TokenType.STRING);
        assertThat(tokens.get(0).value()).isEqualTo("a\\");
        assertThat(tokens).extracting(Token::value).contains("or");
    }

    @Test
    void withStandardConformingStringsOffBackslashEscapesInPlainStrings() {
        List<Token> tokens = SqlLexer.tokenize("'a\\' OR 1=1 --'", false).stream().filter(t -> !t.isTrivia()).toList();
        assertThat(tokens).hasSize(1);
        assertThat(tokens.get(0).value()).isEqualTo("a' OR 1=1 --");
        assertThat(SqlLexer.tokenize("U&'x'", false).get(0).wellFormed()).isFalse();
    }

    @Test
    void doubledQuotesInsideStrings() {
        Token token = only("'O''Brien'");
        assertThat(token.value()).isEqualTo("O'Brien");
    }

    @Test
    void escapeStringsDecodeBackslashEscapes() {
        Token token = only("E'it\\'s\\n\\x41\\101\\u00e9\\\\'");
        assertThat(token.type()).isEqualTo(TokenType.ESCAPE_STRING);
        assertThat(token.value()).isEqualTo("it's\nAAé\\");
    }

    @Test
    void bitAndHexStringsAreConstants() {
        assertThat(only("B'1010'").type()).isEqualTo(TokenType.BIT_STRING);
        assertThat(only("x'1F'").type()).isEqualTo(TokenType.BIT_STRING);
    }

    @Test
    void dollarQuotesWithAndWithoutTags() {
        Token plain = only("$$it's; -- not a comment$$");
        assertThat(plain.type()).isEqualTo(TokenType.DOLLAR_STRING);
        assertThat(plain.value()).isEqualTo("it's; -- not a comment");
        Token tagged = only("$fn$ body with $$ inside $fn$");
        assertThat(tagged.value()).isEqualTo(" body with $$ inside ");
    }

    @Test
    void positionalParametersAreNotDollarQuotes() {
        List<Token> tokens = significant("a = $1 AND b = $12");
        assertThat(tokens).filteredOn(t -> t.is(TokenType.PARAMETER)).extracting(Token::value).containsExactly("$1", "$12");
    }

    @Test
    void dollarInsideIdentifierIsPartOfIt() {
        assertThat(only("a$b").value()).isEqualTo("a$b");
    }

    @Test
    void nestedBlockCommentsCloseOnlyAtTheOutermostEnd() {
        List<Token> tokens = SqlLexer.tokenize("SELECT /* a /* b */ still comment */ 1");
        assertThat(tokens).filteredOn(t -> t.is(TokenType.BLOCK_COMMENT)).hasSize(1);
        assertThat(tokens).filteredOn(t -> !t.isTrivia()).extracting(Token::value).containsExactly("select", "1");
    }

    @Test
    void lineCommentsRunToTheEndOfTheLine() {
        List<Token> tokens = significant("SELECT 1 -- ; DROP TABLE x\n, 2");
        assertThat(tokens).extracting(Token::value).containsExactly("select", "1", ",", "2");
    }

    @Test
    void unterminatedInputsAreMarkedNotThrown() {
        assertThat(only("'abc").wellFormed()).isFalse();
        assertThat(only("E'abc\\'").wellFormed()).isFalse();
        assertThat(only("\"abc").wellFormed()).isFalse();
        assertThat(only("$tag$ abc $tag").wellFormed()).isFalse();
        assertThat(SqlLexer.tokenize("SELECT /* /* */").get(2).wellFormed()).isFalse();
        assertThat(only("$").wellFormed()).isFalse();
    }

    @Test
    void castsAndSlicesAreTheirOwnTokens() {
        List<Token> tokens = significant("a::int[] , b[1:2]");
        assertThat(tokens).extracting(Token::type).containsExactly(TokenType.WORD, TokenType.CAST, TokenType.WORD,
                TokenType.LEFT_BRACKET, TokenType.RIGHT_BRACKET, TokenType.COMMA, TokenType.WORD, TokenType.LEFT_BRACKET,
                TokenType.NUMBER, TokenType.COLON, TokenType.NUMBER, TokenType.RIGHT_BRACKET);
    }

    @Test
    void jsonOperatorsLexAsSingleOperators() {
        List<Token> tokens = significant("d->'a' ->> 'b' #> p #>> q @> r <@ s ? 'k' ?| t ?& u @? v");
        assertThat(tokens).filteredOn(t -> t.is(TokenType.OPERATOR)).extracting(Token::value)
                .containsExactly("->", "->>", "#>", "#>>", "@>", "<@", "?", "?|", "?&", "@?");
    }

    @Test
    void operatorsEndingInMinusAreSplitAsTheServerDoes() {
        // scan.l: "=-" is "=" followed by "-" because neither character allows a trailing minus.
        assertThat(significant("a=-1")).extracting(Token::value).containsExactly("a", "=", "-", "1");
        // "@-" keeps its minus: @ is one of the characters that permit it.
        assertThat(significant("a @- b")).extracting(Token::value).containsExactly("a", "@-", "b");
        // A comment start ends an operator.
        assertThat(significant("a +-- comment\n1")).extracting(Token::value).containsExactly("a", "+", "1");
    }

    @Test
    void numbersInEveryForm() {
        assertThat(significant("1 1.5 .5 1e10 1.5E-3 1..2")).extracting(Token::value)
                .containsExactly("1", "1.5", ".5", "1e10", "1.5E-3", "1", "..", "2");
    }

    @Test
    void tokensCoverTheInputWithoutGapsWhateverItContains() {
        Random random = new Random(20261121);
        String alphabet = "ab$'\"E&U\\-/*;:()[]., \n\t0123456789!@#%^|?<>=~`{}é\u0000";
        for (int round = 0; round < 5000; round++) {
            StringBuilder sql = new StringBuilder();
            int length = random.nextInt(40);
            for (int i = 0; i < length; i++) {
                sql.append(alphabet.charAt(random.nextInt(alphabet.length())));
            }
            List<Token> tokens = SqlLexer.tokenize(sql.toString());
            int expected = 0;
            for (Token token : tokens) {
                assertThat(token.start()).as("%s", sql).isEqualTo(expected);
                assertThat(token.end()).as("%s", sql).isGreaterThan(token.start());
                expected = token.end();
            }
            assertThat(expected).as("%s", sql).isEqualTo(sql.length());
        }
    }
}
