-- POST /register with a typical MCP client registration.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"redirect_uris":["http://127.0.0.1:5555/callback"],"token_endpoint_auth_method":"none","client_name":"wrk","grant_types":["authorization_code","refresh_token"]}'
