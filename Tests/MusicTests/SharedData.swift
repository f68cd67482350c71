import Glibc

/// ../shared/data beside the package root, where CI and the README put it; nil when absent.
func sharedDataFolder() -> String? {
    var path = #filePath
    while let slash = path.lastIndex(of: "/") {
        path = String(path[..<slash])
        if access("\(path)/Package.swift", F_OK) == 0 {
            let data = "\(path)/../shared/data"
            return access(data, F_OK) == 0 ? data : nil
        }
    }
    return nil
}
