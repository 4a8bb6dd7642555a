// Starts GraphiQL against this gateway's /graphql, with a first query to run.
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
const fetcher = GraphiQL.createFetcher({ url: new URL('/graphql', window.location.href).toString() });
ReactDOM.createRoot(document.getElementById('graphiql')).render(
  React.createElement(GraphiQL, { fetcher, defaultQuery, defaultEditorToolsVisibility: true }),
);
