// Starts GraphiQL against this gateway's /graphql, with a first query to run.
// An API key typed once into Headers ({"X-API-Key": "..."}) is used for the
// schema fetch too, kept in this browser's local storage for the next visit,
// and the schema is fetched again whenever the headers change.
const defaultQuery = `# Every customer of every provider, 10 at a time.
# Pass pageInfo.endCursor as "after" to go on.
{
  customers(first: 10) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes {
      id
      provider
      providerId
      name
      email
      address { city country }
    }
  }
  providers { provider enabled simulated }
}
`;
const url = new URL('/graphql', window.location.href).toString();
const root = ReactDOM.createRoot(document.getElementById('graphiql'));

// headersOf is the header editor's text as an object, or null while it is
// not a JSON object yet (the user is still typing).
function headersOf(text) {
  if (!text || !text.trim()) return {};
  try {
    const h = JSON.parse(text);
    return h && typeof h === 'object' && !Array.isArray(h) ? h : null;
  } catch {
    return null;
  }
}

const stored = localStorage.getItem('graphiql:headers') ?? ''; // GraphiQL keeps them there
let applied = null; // the headers the current fetcher was made for, as JSON
let timer;
function render(headers) {
  applied = JSON.stringify(headers);
  // a new fetcher makes GraphiQL fetch the schema again, with the editor's headers
  const fetcher = GraphiQL.createFetcher({ url });
  root.render(React.createElement(GraphiQL, {
    fetcher,
    defaultQuery,
    defaultEditorToolsVisibility: true,
    shouldPersistHeaders: true, // the headers, and so the key, survive a reload
    headers: stored, // given at once, so the very first schema fetch carries the kept key
    onEditHeaders: (text) => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        const h = headersOf(text);
        if (h === null || JSON.stringify(h) === applied) return;
        localStorage.setItem('graphiql:headers', text); // at once: GraphiQL's own write is debounced
        render(h);
      }, 300);
    },
  }));
}
render(headersOf(stored) ?? {});
