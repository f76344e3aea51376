// A small client typed by rapport.d.ts (generated from the API's OpenAPI document with
// `make client`), compiled by tests/test_typescript_client.py with `tsc --strict`: if the
// contract changes under it, the test fails and this file shows what a front end must
// change. openapi-fetch types every path, parameter and answer from the `paths` type.
import createClient from "openapi-fetch";

import type { components, paths } from "./rapport";

type Notification = components["schemas"]["NotificationPage"]["items"][number];
type Mutual = components["schemas"]["MutualPage"]["items"][number];

export async function signIn(baseUrl: string, email: string, password: string) {
    const api = createClient<paths>({ baseUrl });
    const { data, error } = await api.POST("/v1/auth/token", {
        body: { username: email, password, scope: "" },
        bodySerializer: (form) => new URLSearchParams(form as Record<string, string>),
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
    });
    if (error !== undefined) {
        throw new Error(`${error.title}: ${error.detail}`);
    }
    return createClient<paths>({
        baseUrl,
        headers: { Authorization: `Bearer ${data.access_token}` },
    });
}

/** What a notification's row says: `kind` narrows `data` to that kind's fields. */
export function describe(notification: Notification): string {
    switch (notification.kind) {
        case "nudge":
            return `Meet ${notification.data.member_id}: ${notification.data.suggested_actions.join(" or ")}`;
        case "invitation_accepted":
            return `Accepted by ${notification.data.member_id ?? "someone"}`;
        case "webhook_endpoint_disabled":
            return `Endpoint ${notification.data.endpoint_id} stopped: ${notification.data.reason}`;
        case "export_ready":
            return `Your data: /v1/me/exports/${notification.data.export_id}`;
        case "digest":
            return `${notification.data.count} in the digest of ${notification.data.local_date}`;
        default:
            return notification.subject;
    }
}

/** Every unread notification, page after page. */
export async function unread(api: Awaited<ReturnType<typeof signIn>>): Promise<string[]> {
    const lines: string[] = [];
    let cursor: string | undefined;
    do {
        const { data, error } = await api.GET("/v1/notifications", {
            params: { query: { unread: true, limit: 100, cursor } },
        });
        if (error !== undefined) {
            throw new Error(error.detail);
        }
        lines.push(...data.items.map(describe));
        cursor = data.next_cursor ?? undefined;
    } while (cursor !== undefined);
    return lines;
}

/** Whom to ask first for an introduction to a member, and the best path's bands. */
export async function whomToAsk(
    api: Awaited<ReturnType<typeof signIn>>,
    memberId: string,
): Promise<{ mutual: Mutual | undefined; bands: string[] }> {
    const path = { member_id: memberId };
    const mutuals = await api.GET("/v1/members/{member_id}/mutuals", {
        params: { path, query: { limit: 1 } },
    });
    const paths = await api.GET("/v1/members/{member_id}/paths", { params: { path } });
    if (mutuals.error !== undefined || paths.error !== undefined) {
        throw new Error("the graph is not answering");
    }
    const best = paths.data.items[0];
    return { mutual: mutuals.data.items[0], bands: best ? best.links.map((link) => link.band) : [] };
}
