public import RecordProtocol

extension RecordClient {
    /// The next notification the record pushes to this client (named `method`, when given,
    /// skipping others), or nil when none comes within `timeout`.
    public nonisolated func nextNotification(named method: String? = nil, timeout: Duration = .seconds(10)) async -> RecordNotification? {
        let notifications = self.notifications
        return await withTaskGroup(of: RecordNotification?.self) { group in
            group.addTask {
                for await notification in notifications where method == nil || notification.method == method {
                    return notification
                }
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }
}
