package dev.pgpolicy.proxy.scram;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgpolicy.proxy.wire.Bytes;
import org.junit.jupiter.api.Test;

class Md5PasswordTest {
    @Test
    void hashesPasswordThenUserThenSalt() {
        // md5(md5("pencil" + "user") in hex + salt 01020304), computed independently.
        assertThat(Md5Password.response("user", "pencil".toCharArray(), Bytes.of((byte) 1, (byte) 2, (byte) 3, (byte) 4))
                .password().toUtf8String())
                .isEqualTo("md54376eb6913b38f9aaff38dc7cf19ca76");
    }

    @Test
    void refusesASaltOfTheWrongLength() {
        assertThatThrownBy(() -> Md5Password.response("user", "pencil".toCharArray(), Bytes.of((byte) 1)))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
