// What a Next.js team writes against the generated types: list, create, update, toggle,
// follow the change feed, and stay live on the event stream.
// tests/api/test_typescript_client.py type-checks it (and a copy with a wrong field name,
// which must fail). `./schema` is generated from the committed openapi.json.
import { fetchEventSource } from "@microsoft/fetch-event-source";
import createClient from "openapi-fetch";
import type { components, paths } from "./schema";

type Task = components["schemas"]["Task"];
type StreamEvent = components["schemas"]["EventStream"];

const baseUrl = "http://localhost:8000";
const api = createClient<paths>({ baseUrl });
const signedIn = { headers: { Authorization: "Bearer <the Better Auth JWT>" } };

export async function tour(userId: string): Promise<Task | undefined> {
  const user = { user_id: userId };
  const listed = await api.GET("/api/{user_id}/tasks", {
    params: { path: user, query: { status: "pending", sort_by: "priority", sort_order: "asc" } },
    ...signedIn,
  });
  const pending: Task[] = listed.data ?? [];

  const created = await api.POST("/api/{user_id}/tasks", {
    params: { path: user },
    body: { title: "Write the report", priority: "high", category: "work", dueDate: "2030-01-31T17:00:00Z" },
    ...signedIn,
  });
  if (created.error) {
    const why: string | { loc: (string | number)[]; msg: string; type: string }[] = created.error.detail;
    console.log(why, pending.length);
    return undefined;
  }
  const task = { ...user, task_id: created.data.id };

  const updated = await api.PUT("/api/{user_id}/tasks/{task_id}", {
    params: { path: task },
    body: { description: null, priority: "low" },
    ...signedIn,
  });
  const toggled = await api.PATCH("/api/{user_id}/tasks/{task_id}/complete", { params: { path: task }, ...signedIn });
  const completed: boolean | undefined = toggled.data?.completed;
  console.log(completed, updated.data?.updatedAt);
  return toggled.data;
}

// A replica kept current with the change feed: apply what changed, keep the revision.
export async function follow(userId: string, replica: Map<string, Task>, since: number): Promise<number> {
  const answer = await api.GET("/api/{user_id}/changes", {
    params: { path: { user_id: userId }, query: { since, limit: 500 } },
    ...signedIn,
  });
  if (answer.response.status === 410) {
    replica.clear(); // too far behind: start over from everything
    return follow(userId, replica, 0);
  }
  const changes = answer.data;
  if (changes === undefined) return since;
  for (const task of changes.tasks) replica.set(task.id, task);
  for (const id of changes.deleted) replica.delete(id);
  return changes.revision;
}

// Live: the event stream says when the user's revision moves, and `follow` fetches what
// changed. The browser's EventSource cannot send a bearer token, so fetch-event-source reads
// the stream with fetch. When the token expires (an `expired` event) or the server closes
// the stream (a restart), it starts again with a fresh token.
export async function live(userId: string, token: () => Promise<string>, replica: Map<string, Task>,
                           stop: AbortSignal): Promise<void> {
  let revision = await follow(userId, replica, 0);
  while (!stop.aborted) {
    const round = new AbortController();
    stop.addEventListener("abort", () => round.abort(), { once: true });
    await fetchEventSource(`${baseUrl}/api/${encodeURIComponent(userId)}/events`, {
      headers: { Authorization: `Bearer ${await token()}` },
      signal: round.signal,
      openWhenHidden: true,
      async onmessage(message) {
        const name = message.event as StreamEvent["event"];
        if (name === "expired") {
          round.abort();
        } else if (name === "revision" && Number(message.id) > revision) {
          revision = await follow(userId, replica, revision);
        }
      },
      onclose() {
        round.abort();
      },
    });
  }
}
