package dev.usagetracker.analytics;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** No export column can hold a comma, quote or line break today (ids, dates, numbers); the writer must still be right. */
class CsvWriterTest {
    @Test
    void fieldsWithCommaQuoteOrLineBreakAreQuotedPerRfc4180() {
        String csv = new CsvWriter()
                .row(List.of("client_id", "date", "count"))
                .row(List.of("a,b", "say \"hi\"", "line1\nline2"))
                .row(List.of("cr\rhere", "", "plain"))
                .toString();
        assertThat(csv).isEqualTo("client_id,date,count\r\n"
                + "\"a,b\",\"say \"\"hi\"\"\",\"line1\nline2\"\r\n"
                + "\"cr\rhere\",,plain\r\n");
    }
}
