/// The bytes a string of hexadecimal digit pairs spells ("0aff" → [10, 255]): test vectors
/// and PNG suite rows are written that way. Traps on an odd length or a non-hex digit, which
/// only a broken test can give.
public func bytes(hex text: String) -> [UInt8] {
    var bytes: [UInt8] = []
    var index = text.startIndex
    while index < text.endIndex {
        let next = text.index(index, offsetBy: 2)
        bytes.append(UInt8(text[index..<next], radix: 16)!)
        index = next
    }
    return bytes
}
