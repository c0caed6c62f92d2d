import Testing

@testable import UCWA

@Suite struct FormEncodingTests {
    @Test func passwordGrantBodyEscapesEverythingButUnreserved() {
        let body = FormEncoding.encode([
            ("grant_type", "password"), ("username", "alice@contoso.com"), ("password", "p&ss w=rd+ü"),
        ])
        #expect(body == "grant_type=password&username=alice%40contoso.com&password=p%26ss+w%3Drd%2B%C3%BC")
    }
}
