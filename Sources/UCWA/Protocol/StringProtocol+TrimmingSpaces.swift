// Header values (Retry-After, WWW-Authenticate), INI lines and data: URI parameters are read
// without the blanks around them.

extension StringProtocol {
    /// Without leading and trailing spaces, tabs and carriage returns.
    package var trimmingSpaces: SubSequence {
        var text = self[...]
        while let first = text.first, first == " " || first == "\t" || first == "\r" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" || last == "\r" { text.removeLast() }
        return text
    }
}
