// Starts GraphiQL against the GraphQL path this page was served from
// (/graphql or /v01/server/graphql). Every request carries the headers of
// the headers editor, which starts with an empty bearer credential for the
// user to complete with an API key; the headers are kept in localStorage
// only when the user turns on "Persist headers" in the settings.
(function () {
  'use strict';
  var endpoint = window.location.pathname;

  function fetcher(params, opts) {
    var headers = {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
    };
    var extra = (opts && opts.headers) || {};
    Object.keys(extra).forEach(function (k) {
      headers[k] = extra[k];
    });
    return fetch(endpoint, {
      method: 'POST',
      headers: headers,
      body: JSON.stringify(params),
      credentials: 'omit',
    }).then(function (res) {
      return res.json();
    });
  }

  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultHeaders: '{\n  "Authorization": "Bearer "\n}',
      defaultEditorToolsVisibility: 'headers',
      shouldPersistHeaders: false,
      showPersistHeadersSettings: true,
      defaultQuery:
        '# Paste an API key after "Bearer " in the headers below, then run a query.\n' +
        '{\n  users(limit: 10) {\n    totalCount\n    data {\n      id\n      email\n    }\n  }\n}\n',
    })
  );
})();
