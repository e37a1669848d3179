package dev.usagetracker.realtime;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class UsageMessageTest {
    private final UsageUpdate update = new UsageUpdate("1764072000000-3", "acme-shop", "2026-11-25", "2026-11-25T10", 42, 7, 9);

    @Test
    void anSseEventCarriesTheStreamIdTheNameAndTheContractFieldsOnly() {
        assertThat(UsageStream.event(update)).isEqualTo("id: 1764072000000-3\nevent: usage\n"
                + "data: {\"client_id\":\"acme-shop\",\"date\":\"2026-11-25\",\"count\":42}\n\n");
    }

    @Test
    void aWebSocketFrameCarriesTheSameFields() {
        assertThat(UsageMessage.of(update).frame(update.eventId())).isEqualTo("{\"event\":\"usage\",\"id\":\"1764072000000-3\","
                + "\"data\":{\"client_id\":\"acme-shop\",\"date\":\"2026-11-25\",\"count\":42}}");
    }
}
