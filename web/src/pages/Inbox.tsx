import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { memo, useCallback, useEffect, useRef, useState, type ReactNode, type Ref } from "react";
import { Link, useNavigate, useSearchParams } from "react-router";
import { api, unwrap, type Schemas } from "../api/client";
import type { paths } from "../api/schema";
import { errorFor } from "../components/errors";
import { FormError } from "../components/Field";
import { authorName, ReplyState, SourceBadge, Stars, when } from "../components/itemBits";

type Query = NonNullable<paths["/api/v1/items"]["get"]["parameters"]["query"]>;

const PAGE = 50;
const SELECTS = {
  source: [["google", "Google"], ["facebook", "Facebook"], ["plaudit", "Feedback"]],
  kind: [["review", "Reviews"], ["question", "Questions"], ["recommendation", "Recommendations"], ["comment", "Comments"], ["mention", "Mentions"], ["story_comment", "Story comments"], ["feedback", "Feedback"]],
  rating: [["5", "5 stars"], ["4", "4 stars"], ["3", "3 stars"], ["2", "2 stars"], ["1", "1 star"]],
  replied: [["false", "Not replied"], ["true", "Replied"]],
  status: [["open", "Open"], ["closed", "Closed"], ["archived", "Archived"]],
} as const;
const LABELS: Record<keyof typeof SELECTS, string> = {
  source: "Source", kind: "Kind", rating: "Rating", replied: "Replied", status: "Status",
};

/** The URL holds the filters, so a shared link opens the same view. */
function queryOf(params: URLSearchParams): Query {
  const query: Query = { limit: PAGE };
  const location = params.get("location");
  if (location) query.location_id = [Number(location)];
  const source = params.get("source");
  if (source) query.source = source as Schemas["Source"];
  const kind = params.get("kind");
  if (kind) query.kind = kind as Schemas["Kind"];
  const rating = params.get("rating");
  if (rating) query.rating = [Number(rating)];
  const replied = params.get("replied");
  if (replied) query.replied = replied === "true";
  const status = params.get("status");
  if (status) query.status = [status as Schemas["ItemStatus"]];
  const q = params.get("q");
  if (q) query.q = q;
  const assignee = params.get("assignee");
  if (assignee === "none") query.unassigned = true;
  else if (assignee) query.assignee_user_id = Number(assignee);
  const tags = params.getAll("tag").filter(Boolean);
  if (tags.length) query.tag = tags;
  const since = params.get("since");
  if (since) query.since = since;
  const until = params.get("until");
  if (until) query.until = until;
  return query;
}

// Where the API names one of these query parameters, its message goes under that control.
const FILTER_FIELDS = ["since", "until", "tag", "assignee_user_id"];

export function Inbox() {
  const [params, setParams] = useSearchParams();
  const query = queryOf(params);
  const navigate = useNavigate();
  const [selected, setSelected] = useState(0);
  const search = useRef<HTMLInputElement>(null);
  const rows = useRef<(HTMLAnchorElement | null)[]>([]);
  const sentinel = useRef<HTMLDivElement>(null);
  const register = useCallback((index: number, el: HTMLAnchorElement | null) => {
    rows.current[index] = el;
  }, []);

  const locations = useQuery({
    queryKey: ["locations"],
    queryFn: async () => unwrap(await api.GET("/api/v1/locations")),
  });
  const members = useQuery({
    queryKey: ["members"],
    queryFn: async () => unwrap(await api.GET("/api/v1/members")),
    staleTime: 60_000,
  });
  const items = useInfiniteQuery({
    queryKey: ["items", query],
    initialPageParam: null as string | null,
    // The signal aborts a request whose answer nobody waits for any more (a search typed on):
    // otherwise a slow one holds one of the browser's six connections to the host, and the
    // search that is wanted queues behind it.
    queryFn: async ({ pageParam, signal }) =>
      unwrap(await api.GET("/api/v1/items", { params: { query: { ...query, cursor: pageParam } }, signal })),
    getNextPageParam: (last) => last.next_cursor,
  });
  const { limit: _limit, ...facetQuery } = query;
  void _limit;
  const facets = useQuery({
    queryKey: ["facets", facetQuery],
    queryFn: async ({ signal }) => unwrap(await api.GET("/api/v1/items/facets", { params: { query: facetQuery }, signal })),
  });
  const list = items.data?.pages.flatMap((page) => page.items) ?? [];
  const queryClient = useQueryClient();
  // `e` closes the selected item ("done"); the list and the counts are read again.
  const close = useMutation({
    mutationFn: async (itemId: number) =>
      unwrap(await api.PATCH("/api/v1/items/{item_id}", { params: { path: { item_id: itemId } }, body: { status: "closed" } })),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ["items"] });
      void queryClient.invalidateQueries({ queryKey: ["facets"] });
    },
  });
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = items;

  // Infinite scroll: the next keyset page when the end of the list comes into view.
  useEffect(() => {
    const end = sentinel.current;
    if (!end || !hasNextPage) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting) && !isFetchingNextPage) void fetchNextPage();
    }, { rootMargin: "400px" });
    observer.observe(end);
    return () => observer.disconnect();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);

  // j/k move, r or Enter opens the selected item (r with the composer focused), / searches.
  const count = list.length;
  const selectedId = list[Math.min(selected, count - 1)]?.id;
  useEffect(() => {
    function onKey(event: KeyboardEvent) {
      const target = event.target as HTMLElement;
      if (event.metaKey || event.ctrlKey || event.altKey) return;
      if (target.closest("input, textarea, select, [contenteditable]")) return;
      if (event.key === "/") {
        event.preventDefault();
        search.current?.focus();
      } else if (event.key === "j" || event.key === "k") {
        event.preventDefault();
        const next = Math.max(0, Math.min(count - 1, selected + (event.key === "j" ? 1 : -1)));
        setSelected(next);
        rows.current[next]?.focus();
        if (next >= count - 5 && hasNextPage) void fetchNextPage();
      } else if (event.key === "r" && selectedId !== undefined) {
        event.preventDefault();
        navigate(`/inbox/${selectedId}#reply`);
      } else if (event.key === "e" && selectedId !== undefined) {
        event.preventDefault();
        close.mutate(selectedId);
      }
    }
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [count, selected, selectedId, hasNextPage, fetchNextPage, navigate, close]);

  function setFilter(name: string, value: string | string[]) {
    const next = new URLSearchParams(params);
    next.delete(name);
    for (const each of Array.isArray(value) ? value : [value]) if (each) next.append(name, each);
    setSelected(0);
    setParams(next, { replace: true });
  }

  // The export needs the bearer token, so it is fetched and handed to the browser as a file.
  const exportCsv = useMutation({
    mutationFn: async () => {
      const blob = unwrap(await api.GET("/api/v1/items/export.csv", { params: { query: facetQuery }, parseAs: "blob" }));
      const link = document.createElement("a");
      link.href = URL.createObjectURL(blob as Blob);
      link.download = "plaudit-items.csv";
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
    },
  });
  const error = errorFor(items.error ?? facets.error ?? close.error ?? exportCsv.error, FILTER_FIELDS);
  const under = (field: string) =>
    error?.field === field ? (
      <p className="error" role="alert">
        {error.message}
      </p>
    ) : null;
  const total = facets.data ? `${facets.data.estimated ? "≈ " : ""}${facets.data.total.toLocaleString()}` : null;
  return (
    <section className="page inbox">
      <div className="page-head">
        <h1>Inbox</h1>
        {total !== null && (
          <p className="count" aria-live="polite">
            {total} {facets.data?.total === 1 ? "item" : "items"}
            {facets.data?.estimated && <span className="hint"> (estimated)</span>}
          </p>
        )}
        <button type="button" className="export" onClick={() => exportCsv.mutate()} disabled={exportCsv.isPending}>
          {exportCsv.isPending ? "Exporting…" : "Export CSV"}
        </button>
      </div>
      <form className="filters" role="search" aria-label="Filter the inbox" onSubmit={(e) => e.preventDefault()}>
        <SearchBox ref={search} value={params.get("q") ?? ""} onSearch={(q) => setFilter("q", q)} />
        <label>
          <span>Location</span>
          <select value={params.get("location") ?? ""} onChange={(e) => setFilter("location", e.target.value)}>
            <option value="">All locations</option>
            {locations.data?.locations.map((l) => (
              <option key={l.id} value={l.id}>
                {l.name}
              </option>
            ))}
          </select>
        </label>
        {(Object.keys(SELECTS) as (keyof typeof SELECTS)[]).map((name) => (
          <label key={name}>
            <span>{LABELS[name]}</span>
            <select value={params.get(name) ?? ""} onChange={(e) => setFilter(name, e.target.value)}>
              <option value="">Any</option>
              {SELECTS[name].map(([value, label]) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </select>
          </label>
        ))}
        <label>
          <span>Assignee</span>
          <select value={params.get("assignee") ?? ""} onChange={(e) => setFilter("assignee", e.target.value)}>
            <option value="">Anyone</option>
            <option value="none">Unassigned</option>
            {members.data?.members.map((m) => (
              <option key={m.user_id} value={m.user_id}>
                {m.name}
              </option>
            ))}
          </select>
          {under("assignee_user_id")}
        </label>
        <TagsBox value={params.getAll("tag")} onChange={(tags) => setFilter("tag", tags)} error={under("tag")} />
        <label>
          <span>Posted from</span>
          <input type="date" value={params.get("since") ?? ""} max={params.get("until") ?? undefined}
            aria-invalid={error?.field === "since" || undefined} onChange={(e) => setFilter("since", e.target.value)} />
          {under("since")}
        </label>
        <label>
          <span>Posted until</span>
          <input type="date" value={params.get("until") ?? ""} min={params.get("since") ?? undefined}
            aria-invalid={error?.field === "until" || undefined} onChange={(e) => setFilter("until", e.target.value)} />
          {under("until")}
        </label>
      </form>
      <FormError message={error && !error.field ? error.message : null} />
      {items.isPending && <p role="status">Loading…</p>}
      {items.isSuccess && list.length === 0 && (
        <p className="empty" role="status">
          Nothing here{params.size ? " with these filters" : " yet: connect Google or Facebook on the Connections page"}.
        </p>
      )}
      <ol className="items" aria-label="Items">
        {list.map((item, index) => (
          <ItemRow key={item.id} item={item} index={index} selected={index === selected} register={register} onSelect={setSelected} />
        ))}
      </ol>
      <div ref={sentinel} />
      {hasNextPage && (
        <button type="button" className="more" onClick={() => void fetchNextPage()} disabled={isFetchingNextPage}>
          {isFetchingNextPage ? "Loading more…" : "Load more"}
        </button>
      )}
      <p className="keys hint">
        Keys: <kbd>j</kbd>/<kbd>k</kbd> move, <kbd>Enter</kbd> open, <kbd>r</kbd> reply, <kbd>e</kbd> close, <kbd>/</kbd> search
      </p>
    </section>
  );
}

/** One row of the list. Memoised: a new page or a move of the selection re-renders the rows
 * whose props changed, not the whole list, so a page costs the same at any depth. */
const ItemRow = memo(function ItemRow({ item, index, selected, register, onSelect }: {
  item: Schemas["ItemOut"];
  index: number;
  selected: boolean;
  register: (index: number, el: HTMLAnchorElement | null) => void;
  onSelect: (index: number) => void;
}) {
  return (
    <li className={selected ? "selected" : undefined}>
      <Link
        to={`/inbox/${item.id}`}
        ref={(el) => register(index, el)}
        onFocus={() => onSelect(index)}
        className="item-row"
      >
        <span className="row-head">
          <SourceBadge source={item.source} />
          <Stars rating={item.rating} />
          <span className="author">{authorName(item)}</span>
          <time dateTime={item.posted_at}>{when(item.posted_at)}</time>
        </span>
        <span className="text">{item.text || <em className="dim">No text</em>}</span>
        <span className="row-tags">
          {item.replied ? <span className="tag ok">Replied</span> : <span className="tag">Not replied</span>}
          {item.status !== "open" && <span className="tag">{item.status}</span>}
          {item.latest_reply && !item.replied && <ReplyState status={item.latest_reply.status} />}
        </span>
      </Link>
    </li>
  );
});

/** Searches 150 ms after the last keystroke (a pause, not every letter), or at once on Enter. */
function SearchBox({ value, onSearch, ref }: { value: string; onSearch: (q: string) => void; ref: Ref<HTMLInputElement> }) {
  const [text, setText] = useState(value);
  useEffect(() => {
    if (text.trim() === value) return;
    const timer = setTimeout(() => onSearch(text.trim()), 150);
    return () => clearTimeout(timer);
  }, [text, value, onSearch]);
  return (
    <label className="search">
      <span>Search</span>
      <input
        ref={ref}
        type="search"
        value={text}
        placeholder="Words, or an author"
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === "Enter") onSearch(text.trim());
          if (e.key === "Escape") (e.target as HTMLInputElement).blur();
        }}
      />
    </label>
  );
}

/** Tags, comma-separated: items carrying all of them. Applied on Enter or when leaving the box. */
function TagsBox({ value, onChange, error }: { value: string[]; onChange: (tags: string[]) => void; error: ReactNode }) {
  const [text, setText] = useState(value.join(", "));
  const apply = () => {
    const tags = text.split(",").map((t) => t.trim()).filter(Boolean);
    if (tags.join(",") !== value.join(",")) onChange(tags);
  };
  return (
    <label>
      <span>Tags</span>
      <input
        type="text"
        value={text}
        placeholder="vip, follow-up"
        onChange={(e) => setText(e.target.value)}
        onBlur={apply}
        onKeyDown={(e) => {
          if (e.key === "Enter") apply();
        }}
      />
      {error}
    </label>
  );
}
