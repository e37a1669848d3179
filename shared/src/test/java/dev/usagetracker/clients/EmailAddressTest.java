package dev.usagetracker.clients;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class EmailAddressTest {

    @ParameterizedTest
    @ValueSource(strings = {"a@[127.0.0.1]", "a@[IPv6:::1]", "a@b..example", "<a@b.example>", "Alice <a@b.example>",
            "a@b", "a@.example", "a@example.", "a@-b.example", "a@b-.example", ".a@b.example", "a.@b.example",
            "a..b@c.example", "\"a b\"@c.example", "a(comment)@b.example", "a@b@c.example", "@b.example", "a@",
            "a b@c.example", "a@b_c.example", "a@b.123", "ä@b.example", "a@b.example\u0000", "a@b.exam\u200bple"})
    void refusesWhatIsNotAPlainMailbox(String address) {
        assertThat(EmailAddress.normalize(address)).as(address).isEmpty();
    }

    @ParameterizedTest
    @CsvSource({"ops@acme.example,ops@acme.example", "ALICE@Alpha.Example,ALICE@alpha.example",
            "first.last+tag@sub.domain.example,first.last+tag@sub.domain.example",
            "x@bücher.example,x@xn--bcher-kva.example", "x@xn--bcher-kva.example,x@xn--bcher-kva.example",
            "o'brien@example.co.uk,o'brien@example.co.uk"})
    void acceptsMailboxesAndStoresTheDomainInAsciiLowerCase(String address, String normal) {
        assertThat(EmailAddress.normalize(address)).contains(normal);
    }

    @ParameterizedTest
    @ValueSource(ints = {65, 255})
    void enforcesLengths(int n) {
        String address = n == 65 ? "a".repeat(65) + "@b.example" : "a@" + "b".repeat(63) + "." + "c".repeat(63) + "." + "d".repeat(63) + "." + "e".repeat(60) + ".example";
        assertThat(EmailAddress.normalize(address)).isEmpty();
    }
}
