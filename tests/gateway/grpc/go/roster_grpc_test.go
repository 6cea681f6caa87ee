// Roster's gRPC front (roster-gateway --grpc-listen) from Go, with grpc-go
// and stubs generated from proto/roster.proto by protoc-gen-go and
// protoc-gen-go-grpc (run.sh makes them; they are never committed), all
// from Debian's packages. TestMain starts roster-users and roster-gateway
// on a temporary data directory; the tests call every unary method and
// check the status codes a client meets: INVALID_ARGUMENT with its
// google.rpc.BadRequest, NOT_FOUND, ALREADY_EXISTS, PERMISSION_DENIED,
// UNAUTHENTICATED, DEADLINE_EXCEEDED, UNIMPLEMENTED, RESOURCE_EXHAUSTED,
// then the health service, server reflection and the WatchChanges stream.
//
// Environment: ROSTER_USERS_BIN, ROSTER_GATEWAY_BIN, GW_TEST_PORT (the
// HTTP port; gRPC listens on GW_TEST_PORT + 1000). With
// ROSTER_TEST_STORE=postgres, roster-users keeps its store in a database
// of its own on the cluster ROSTER_TEST_PG_URL names (made and dropped
// here with psql).
package rostergrpc_test

import (
	"bytes"
	"context"
	"fmt"
	"io/ioutil"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	rpb "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	pb "roster/v1/rosterpb"
)

var (
	grpcAddr string
	adminKey string
	conn     *grpc.ClientConn
	client   pb.UserServiceClient
)

// The largest gRPC request message the gateway is started with.
const maxMessage = 64 * 1024

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	usersBin, gatewayBin := os.Getenv("ROSTER_USERS_BIN"), os.Getenv("ROSTER_GATEWAY_BIN")
	port, err := strconv.Atoi(os.Getenv("GW_TEST_PORT"))
	if usersBin == "" || gatewayBin == "" || err != nil {
		fmt.Fprintln(os.Stderr, "ROSTER_USERS_BIN, ROSTER_GATEWAY_BIN and GW_TEST_PORT must be set")
		return 2
	}
	dir, err := ioutil.TempDir("", "roster-grpc-go-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer os.RemoveAll(dir)
	ipc := "ipc://" + filepath.Join(dir, "users.ipc")
	keyFile := filepath.Join(dir, "admin.key")
	httpURL := fmt.Sprintf("http://127.0.0.1:%d", port)
	grpcAddr = fmt.Sprintf("127.0.0.1:%d", port+1000)

	usersArgs := []string{"--data", dir, "--listen", ipc, "--init-admin-key", keyFile}
	if os.Getenv("ROSTER_TEST_STORE") == "postgres" {
		url, drop, err := pgDatabase(filepath.Base(dir))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		defer drop()
		usersArgs = append(usersArgs, "--store", url)
	}
	users := start(usersBin, usersArgs...)
	defer stop(users, "roster-users")
	if !waitFor(func() bool {
		b, err := ioutil.ReadFile(keyFile)
		_, err2 := os.Stat(filepath.Join(dir, "users.ipc"))
		return err == nil && err2 == nil && len(bytes.TrimSpace(b)) > 0
	}) {
		fmt.Fprintln(os.Stderr, "roster-users did not start")
		return 1
	}
	b, _ := ioutil.ReadFile(keyFile)
	adminKey = string(bytes.TrimSpace(b))

	gateway := start(gatewayBin, "--listen", httpURL, "--upstream", ipc, "--grpc-listen", grpcAddr,
		"--grpc-max-message", strconv.Itoa(maxMessage))
	defer stop(gateway, "roster-gateway")
	if !waitFor(func() bool {
		r, err := http.Get(httpURL + "/readyz")
		if err != nil {
			return false
		}
		r.Body.Close()
		return r.StatusCode == 200
	}) {
		fmt.Fprintln(os.Stderr, "roster-gateway did not become ready")
		return 1
	}
	conn, err = grpc.Dial(grpcAddr, grpc.WithInsecure(), grpc.WithBlock(), grpc.WithTimeout(10*time.Second))
	if err != nil {
		fmt.Fprintln(os.Stderr, "dial", grpcAddr, err)
		return 1
	}
	defer conn.Close()
	client = pb.NewUserServiceClient(conn)
	return m.Run()
}

// Makes a database named after tag on the cluster of ROSTER_TEST_PG_URL;
// returns its URL and a function that drops it.
func pgDatabase(tag string) (string, func(), error) {
	base := os.Getenv("ROSTER_TEST_PG_URL")
	cut := strings.LastIndex(base, "/")
	if cut < 0 {
		return "", nil, fmt.Errorf("ROSTER_TEST_STORE=postgres needs ROSTER_TEST_PG_URL")
	}
	name := "grpcgo_" + strings.Map(func(r rune) rune {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			return r
		}
		if r >= 'A' && r <= 'Z' {
			return r - 'A' + 'a'
		}
		return '_'
	}, tag)
	psql := func(sql string) error {
		out, err := exec.Command("psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", base, "-c", sql).CombinedOutput()
		if err != nil {
			return fmt.Errorf("psql %q: %v: %s", sql, err, out)
		}
		return nil
	}
	if err := psql("CREATE DATABASE " + name); err != nil {
		return "", nil, err
	}
	drop := func() {
		if err := psql("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	return base[:cut+1] + name, drop, nil
}

func start(bin string, args ...string) *exec.Cmd {
	c := exec.Command(bin, args...)
	c.Stderr = os.Stderr
	if err := c.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "start", bin, err)
		os.Exit(2)
	}
	return c
}

// Stops a daemon with SIGTERM; it must exit 0 within 10 s.
func stop(c *exec.Cmd, name string) {
	c.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s exited: %v\n", name, err)
			os.Exit(1)
		}
	case <-time.After(10 * time.Second):
		c.Process.Kill()
		fmt.Fprintf(os.Stderr, "%s did not stop within 10 s\n", name)
		os.Exit(1)
	}
}

func waitFor(ok func() bool) bool {
	for end := time.Now().Add(15 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if ok() {
			return true
		}
	}
	return false
}

// A context carrying `key` as the call's credential ("" for none), with a
// 10 s deadline.
func as(key string) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	if key != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+key)
	}
	return ctx, cancel
}

func admin() (context.Context, context.CancelFunc) { return as(adminKey) }

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// The status of err, which must carry `want`.
func wantCode(t *testing.T, what string, err error, want codes.Code) *status.Status {
	t.Helper()
	st, ok := status.FromError(err)
	if !ok || st.Code() != want {
		t.Fatalf("%s: want %v, got %v", what, want, err)
	}
	if want != codes.OK && st.Message() == "" {
		t.Fatalf("%s: %v without a message", what, want)
	}
	return st
}

var seq int

// A reference and email no other test uses.
func fresh(prefix string) (string, string) {
	seq++
	ref := fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano(), seq)
	return ref, ref + "@example.com"
}

func newTenant(t *testing.T, name string) *pb.Tenant {
	ctx, cancel := admin()
	defer cancel()
	tn, err := client.CreateTenant(ctx, &pb.CreateTenantRequest{Name: proto.String(name)})
	must(t, "CreateTenant", err)
	return tn
}

func newKey(t *testing.T, role pb.Role, tenant *pb.Tenant) string {
	ctx, cancel := admin()
	defer cancel()
	req := &pb.CreateKeyRequest{Name: proto.String("go-" + role.String()), Role: role.Enum()}
	if tenant != nil {
		req.TenantId = proto.String(tenant.GetId())
	}
	k, err := client.CreateKey(ctx, req)
	must(t, "CreateKey", err)
	return k.GetSecret()
}

func TestEveryUnaryMethod(t *testing.T) {
	ctx, cancel := admin()
	defer cancel()
	tn, err := client.CreateTenant(ctx, &pb.CreateTenantRequest{Name: proto.String("Acme"), Reference: proto.String("acme")})
	must(t, "CreateTenant", err)
	other, err := client.CreateTenant(ctx, &pb.CreateTenantRequest{Name: proto.String("Other")})
	must(t, "CreateTenant", err)
	up, err := client.UpdateTenant(ctx, &pb.UpdateTenantRequest{Id: other.Id, Name: proto.String("Other Co")})
	must(t, "UpdateTenant", err)
	if up.GetName() != "Other Co" {
		t.Fatalf("UpdateTenant: name %q", up.GetName())
	}
	got, err := client.GetTenant(ctx, &pb.GetTenantRequest{Id: tn.Id, IncludeUserCount: proto.Bool(true)})
	must(t, "GetTenant", err)
	if got.GetName() != "Acme" || got.GetReference() != "acme" || got.UserCount == nil {
		t.Fatalf("GetTenant: %v", got)
	}
	bt, err := client.BatchGetTenants(ctx, &pb.BatchGetTenantsRequest{Ids: []string{tn.GetId(), other.GetId()}})
	must(t, "BatchGetTenants", err)
	if len(bt.Tenants) != 2 || !bt.Found[0] || !bt.Found[1] {
		t.Fatalf("BatchGetTenants: %v", bt)
	}
	lt, err := client.ListTenants(ctx, &pb.ListTenantsRequest{Limit: proto.Int32(10)})
	must(t, "ListTenants", err)
	if lt.GetTotalCount() < 2 || lt.PageInfo == nil {
		t.Fatalf("ListTenants: %v", lt)
	}

	ref, email := fresh("ada")
	u, err := client.CreateUser(ctx, &pb.CreateUserRequest{Reference: proto.String(ref), Email: proto.String(email),
		FirstName: proto.String("Ada"), TenantId: tn.Id, CustomData: proto.String(`{"plan":"pro"}`)})
	must(t, "CreateUser", err)
	if u.GetEmail() != email || u.GetTenantId() != tn.GetId() || !u.GetActive() || u.GetCreatedAt() == 0 {
		t.Fatalf("CreateUser: %v", u)
	}
	u2, err := client.UpdateUser(ctx, &pb.UpdateUserRequest{Id: u.Id, LastName: proto.String("Lovelace"),
		Clear: []pb.UserField{pb.UserField_USER_FIELD_CUSTOM_DATA}})
	must(t, "UpdateUser", err)
	if u2.GetLastName() != "Lovelace" || u2.CustomData != nil {
		t.Fatalf("UpdateUser: %v", u2)
	}
	g, err := client.GetUser(ctx, &pb.GetUserRequest{Id: u.Id, FieldMask: proto.Uint64(1 << 4)})
	must(t, "GetUser", err)
	if g.GetId() != u.GetId() || g.GetFirstName() != "Ada" || g.Email != nil {
		t.Fatalf("GetUser with a field mask: %v", g)
	}
	bu, err := client.BatchGetUsers(ctx, &pb.BatchGetUsersRequest{Ids: []string{u.GetId(), "01890000-0000-7000-8000-000000000000"}})
	must(t, "BatchGetUsers", err)
	if len(bu.Users) != 2 || !bu.Found[0] || bu.Found[1] {
		t.Fatalf("BatchGetUsers: %v", bu)
	}
	lu, err := client.ListUsers(ctx, &pb.ListUsersRequest{Limit: proto.Int32(5),
		Filter: &pb.UserFilter{TenantId: &pb.IdFilter{EqualTo: tn.Id}}})
	must(t, "ListUsers", err)
	if lu.GetTotalCount() != 1 || len(lu.Users) != 1 || lu.PageInfo.GetHasNextPage() {
		t.Fatalf("ListUsers: %v", lu)
	}
	r1, e1 := fresh("bulk")
	bw, err := client.BulkWrite(ctx, &pb.BulkWriteRequest{Operations: []*pb.BulkOperation{
		{Operation: &pb.BulkOperation_CreateUser{CreateUser: &pb.CreateUserRequest{Reference: proto.String(r1), Email: proto.String(e1), TenantId: tn.Id}}},
		{Operation: &pb.BulkOperation_CreateUser{CreateUser: &pb.CreateUserRequest{Reference: proto.String(r1), Email: proto.String("x" + e1), TenantId: tn.Id}}},
	}})
	must(t, "BulkWrite", err)
	if bw.GetApplied() != 1 || bw.GetFailed() != 1 || bw.Results[1].GetCode() != int32(codes.AlreadyExists) {
		t.Fatalf("BulkWrite: %v", bw)
	}
	del, err := client.DeleteUser(ctx, &pb.DeleteUserRequest{Id: bw.Results[0].Id})
	must(t, "DeleteUser", err)
	if del.GetId() != bw.Results[0].GetId() {
		t.Fatalf("DeleteUser: %v", del)
	}
	dt, err := client.DeleteTenant(ctx, &pb.DeleteTenantRequest{Id: other.Id})
	must(t, "DeleteTenant", err)
	if dt.GetId() != other.GetId() {
		t.Fatalf("DeleteTenant: %v", dt)
	}

	// Health needs no key.
	nctx, ncancel := as("")
	defer ncancel()
	h, err := client.Health(nctx, &pb.HealthRequest{})
	must(t, "Health", err)
	if h.GetStatus() != "SERVING" || h.GetVersion() == "" {
		t.Fatalf("Health: %v", h)
	}
	s, err := client.Stats(ctx, &pb.StatsRequest{})
	must(t, "Stats", err)
	if s.GetUsers() < 1 || s.GetTenants() < 1 || len(s.Methods) == 0 {
		t.Fatalf("Stats: %v", s)
	}

	k, err := client.CreateKey(ctx, &pb.CreateKeyRequest{Name: proto.String("go-writer"), Role: pb.Role_ROLE_WRITER.Enum(), TenantId: tn.Id})
	must(t, "CreateKey", err)
	if !strings.HasPrefix(k.GetSecret(), "rstr_") || k.Key.SecretHash != nil {
		t.Fatalf("CreateKey: %v", k)
	}
	gk, err := client.GetKey(ctx, &pb.GetKeyRequest{Id: k.Key.Id})
	must(t, "GetKey", err)
	if gk.GetName() != "go-writer" || gk.GetRole() != pb.Role_ROLE_WRITER {
		t.Fatalf("GetKey: %v", gk)
	}
	lk, err := client.ListKeys(ctx, &pb.ListKeysRequest{})
	must(t, "ListKeys", err)
	if len(lk.Keys) < 2 {
		t.Fatalf("ListKeys: %v", lk)
	}
	rk, err := client.RotateKey(ctx, &pb.RotateKeyRequest{Id: k.Key.Id, GraceSeconds: proto.Uint32(0)})
	must(t, "RotateKey", err)
	if rk.GetSecret() == k.GetSecret() || rk.Key.RotatedAt == nil {
		t.Fatalf("RotateKey: %v", rk)
	}
	rv, err := client.RevokeKey(ctx, &pb.RevokeKeyRequest{Id: k.Key.Id})
	must(t, "RevokeKey", err)
	if rv.RevokedAt == nil {
		t.Fatalf("RevokeKey: %v", rv)
	}

	env, err := client.GetEnvironment(ctx, &pb.GetEnvironmentRequest{})
	must(t, "GetEnvironment", err)
	if env.GetId() == "" || env.GetSigningKeyId() == "" {
		t.Fatalf("GetEnvironment: %v", env)
	}
	tok, err := client.IssueServiceToken(ctx, &pb.IssueServiceTokenRequest{EnvironmentId: env.Id})
	must(t, "IssueServiceToken", err)
	if tok.GetAccessToken() == "" || tok.GetExpiresAt() <= time.Now().UnixNano()/1e6 {
		t.Fatalf("IssueServiceToken: %v", tok)
	}
	// An access token is a bearer credential too.
	tctx, tcancel := as(tok.GetAccessToken())
	defer tcancel()
	_, err = client.GetUser(tctx, &pb.GetUserRequest{Id: u.Id})
	must(t, "GetUser with a service token", err)
	ut, err := client.IssueUserToken(ctx, &pb.IssueUserTokenRequest{EnvironmentId: env.Id, UserId: u.Id, ExpiresInSeconds: proto.Int64(60)})
	must(t, "IssueUserToken", err)
	if ut.GetAccessToken() == "" {
		t.Fatalf("IssueUserToken: %v", ut)
	}
	re, err := client.RotateSigningKey(ctx, &pb.RotateSigningKeyRequest{})
	must(t, "RotateSigningKey", err)
	if re.GetSigningKeyId() == env.GetSigningKeyId() {
		t.Fatalf("RotateSigningKey kept kid %s", re.GetSigningKeyId())
	}
	ch, err := client.ListChanges(ctx, &pb.ListChangesRequest{After: proto.Uint64(0), Limit: proto.Int32(1000)})
	must(t, "ListChanges", err)
	if len(ch.Changes) < 5 || ch.Changes[0].GetSeq() != 1 || ch.GetLatestSeq() < uint64(len(ch.Changes)) {
		t.Fatalf("ListChanges: %d changes, latest %d", len(ch.Changes), ch.GetLatestSeq())
	}
}

func TestInvalidArgumentCarriesBadRequest(t *testing.T) {
	ctx, cancel := admin()
	defer cancel()
	ref, _ := fresh("bad")
	_, err := client.CreateUser(ctx, &pb.CreateUserRequest{Reference: proto.String(ref), Email: proto.String("not an email")})
	st := wantCode(t, "CreateUser with a bad email", err, codes.InvalidArgument)
	var fields []string
	for _, d := range st.Details() {
		br, ok := d.(*errdetails.BadRequest)
		if !ok {
			t.Fatalf("detail %T, want *errdetails.BadRequest", d)
		}
		for _, v := range br.GetFieldViolations() {
			if v.GetDescription() == "" {
				t.Fatalf("violation of %q without a description", v.GetField())
			}
			fields = append(fields, v.GetField())
		}
	}
	if len(fields) == 0 || fields[0] != "email" {
		t.Fatalf("BadRequest fields %v, want [email]", fields)
	}
	// The details sit in the standard trailer as a google.rpc.Status.
	if st.Proto().GetCode() != int32(codes.InvalidArgument) || len(st.Proto().GetDetails()) != 1 ||
		st.Proto().GetDetails()[0].GetTypeUrl() != "type.googleapis.com/google.rpc.BadRequest" {
		t.Fatalf("status proto %v", st.Proto())
	}
}

func TestNotFoundAndAlreadyExists(t *testing.T) {
	ctx, cancel := admin()
	defer cancel()
	_, err := client.GetUser(ctx, &pb.GetUserRequest{Id: proto.String("01890000-0000-7000-8000-000000000000")})
	wantCode(t, "GetUser of an unknown id", err, codes.NotFound)
	_, err = client.GetTenant(ctx, &pb.GetTenantRequest{Id: proto.String("01890000-0000-7000-8000-000000000000")})
	wantCode(t, "GetTenant of an unknown id", err, codes.NotFound)

	ref, email := fresh("dup")
	_, err = client.CreateUser(ctx, &pb.CreateUserRequest{Reference: proto.String(ref), Email: proto.String(email)})
	must(t, "CreateUser", err)
	_, err = client.CreateUser(ctx, &pb.CreateUserRequest{Reference: proto.String(ref), Email: proto.String("other-" + email)})
	st := wantCode(t, "CreateUser with a taken reference", err, codes.AlreadyExists)
	if br := badRequest(st); br == nil || br.GetFieldViolations()[0].GetField() != "reference" {
		t.Fatalf("ALREADY_EXISTS details %v, want a violation on reference", st.Details())
	}
}

func badRequest(st *status.Status) *errdetails.BadRequest {
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok && len(br.GetFieldViolations()) > 0 {
			return br
		}
	}
	return nil
}

func TestPermissionDenied(t *testing.T) {
	mine, theirs := newTenant(t, "Mine"), newTenant(t, "Theirs")
	writer := newKey(t, pb.Role_ROLE_WRITER, mine)
	reader := newKey(t, pb.Role_ROLE_READER, mine)

	// Wrong tenant: a writer creating a user in another tenant.
	ctx, cancel := as(writer)
	defer cancel()
	ref, email := fresh("wt")
	_, err := client.CreateUser(ctx, &pb.CreateUserRequest{Reference: proto.String(ref), Email: proto.String(email), TenantId: theirs.Id})
	wantCode(t, "CreateUser in another tenant", err, codes.PermissionDenied)
	// ... and its own tenant works.
	_, err = client.CreateUser(ctx, &pb.CreateUserRequest{Reference: proto.String(ref), Email: proto.String(email)})
	must(t, "CreateUser in the writer's tenant", err)
	// Another tenant reads as absent, not as denied.
	_, err = client.GetTenant(ctx, &pb.GetTenantRequest{Id: theirs.Id})
	wantCode(t, "GetTenant of another tenant", err, codes.NotFound)

	// Wrong role: a reader writing, a writer managing tenants and keys.
	rctx, rcancel := as(reader)
	defer rcancel()
	ref2, email2 := fresh("wr")
	_, err = client.CreateUser(rctx, &pb.CreateUserRequest{Reference: proto.String(ref2), Email: proto.String(email2)})
	wantCode(t, "CreateUser with a reader key", err, codes.PermissionDenied)
	_, err = client.CreateTenant(ctx, &pb.CreateTenantRequest{Name: proto.String("Nope")})
	wantCode(t, "CreateTenant with a writer key", err, codes.PermissionDenied)
	_, err = client.ListKeys(ctx, &pb.ListKeysRequest{})
	wantCode(t, "ListKeys with a writer key", err, codes.PermissionDenied)
	_, err = client.Stats(rctx, &pb.StatsRequest{})
	wantCode(t, "Stats with a reader key", err, codes.PermissionDenied)
}

func TestUnauthenticated(t *testing.T) {
	for _, key := range []string{"", "rstr_0123456789abcdef0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "not-a-key"} {
		ctx, cancel := as(key)
		_, err := client.ListUsers(ctx, &pb.ListUsersRequest{Limit: proto.Int32(1)})
		cancel()
		wantCode(t, fmt.Sprintf("ListUsers with key %q", key), err, codes.Unauthenticated)
	}
	// A scheme other than Bearer.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Basic "+adminKey)
	_, err := client.ListUsers(ctx, &pb.ListUsersRequest{Limit: proto.Int32(1)})
	wantCode(t, "ListUsers with a Basic authorization", err, codes.Unauthenticated)
}

func TestDeadlineExceeded(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+adminKey)
	time.Sleep(2 * time.Millisecond)
	_, err := client.ListUsers(ctx, &pb.ListUsersRequest{Limit: proto.Int32(1000)})
	wantCode(t, "ListUsers past its deadline", err, codes.DeadlineExceeded)
	// The connection still serves.
	actx, acancel := admin()
	defer acancel()
	_, err = client.ListUsers(actx, &pb.ListUsersRequest{Limit: proto.Int32(1)})
	must(t, "ListUsers after a deadline", err)
}

func TestUnknownMethod(t *testing.T) {
	ctx, cancel := admin()
	defer cancel()
	var out pb.User
	err := conn.Invoke(ctx, "/roster.v1.UserService/NoSuchMethod", &pb.GetUserRequest{}, &out)
	wantCode(t, "an unknown method", err, codes.Unimplemented)
	err = conn.Invoke(ctx, "/roster.v1.NoSuchService/GetUser", &pb.GetUserRequest{}, &out)
	wantCode(t, "an unknown service", err, codes.Unimplemented)
}

func TestOversizeMessage(t *testing.T) {
	ctx, cancel := admin()
	defer cancel()
	ref, email := fresh("big")
	_, err := client.CreateUser(ctx, &pb.CreateUserRequest{Reference: proto.String(ref), Email: proto.String(email),
		FirstName: proto.String(strings.Repeat("x", 2*maxMessage))})
	wantCode(t, "a request over --grpc-max-message", err, codes.ResourceExhausted)
	// A request just under the limit reaches the service (which refuses the name's length).
	_, err = client.CreateUser(ctx, &pb.CreateUserRequest{Reference: proto.String(ref), Email: proto.String(email),
		FirstName: proto.String(strings.Repeat("x", maxMessage/2))})
	wantCode(t, "a long first name", err, codes.InvalidArgument)
}

func TestHealthService(t *testing.T) {
	ctx, cancel := as("")
	defer cancel()
	h := grpc_health_v1.NewHealthClient(conn)
	for _, svc := range []string{"", "roster.v1.UserService"} {
		r, err := h.Check(ctx, &grpc_health_v1.HealthCheckRequest{Service: svc})
		must(t, "Health.Check "+svc, err)
		if r.GetStatus() != grpc_health_v1.HealthCheckResponse_SERVING {
			t.Fatalf("Health.Check %q: %v", svc, r.GetStatus())
		}
	}
	_, err := h.Check(ctx, &grpc_health_v1.HealthCheckRequest{Service: "no.such.Service"})
	wantCode(t, "Health.Check of an unknown service", err, codes.NotFound)
}

func TestReflection(t *testing.T) {
	ctx, cancel := as("")
	defer cancel()
	stream, err := rpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	must(t, "ServerReflectionInfo", err)
	ask := func(req *rpb.ServerReflectionRequest) *rpb.ServerReflectionResponse {
		t.Helper()
		must(t, "Send", stream.Send(req))
		r, err := stream.Recv()
		must(t, "Recv", err)
		return r
	}
	r := ask(&rpb.ServerReflectionRequest{MessageRequest: &rpb.ServerReflectionRequest_ListServices{ListServices: "*"}})
	var names []string
	for _, s := range r.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	sort.Strings(names)
	want := []string{"grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection", "roster.v1.UserService"}
	if strings.Join(names, ",") != strings.Join(want, ",") {
		t.Fatalf("list_services: %v, want %v", names, want)
	}

	r = ask(&rpb.ServerReflectionRequest{MessageRequest: &rpb.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: "roster.v1.UserService.GetUser"}})
	files := r.GetFileDescriptorResponse().GetFileDescriptorProto()
	if len(files) != 1 {
		t.Fatalf("file_containing_symbol: %v", r)
	}
	var fd descriptorpb.FileDescriptorProto
	must(t, "FileDescriptorProto", proto.Unmarshal(files[0], &fd))
	if fd.GetName() != "roster.proto" || fd.GetPackage() != "roster.v1" || fd.GetService()[0].GetName() != "UserService" {
		t.Fatalf("roster.proto descriptor: %s %s", fd.GetName(), fd.GetPackage())
	}
	methods := map[string]bool{}
	for _, m := range fd.GetService()[0].GetMethod() {
		methods[m.GetName()] = true
	}
	for _, m := range []string{"CreateUser", "GetUser", "ListUsers", "BulkWrite", "ListChanges"} {
		if !methods[m] {
			t.Fatalf("UserService lacks %s in reflection", m)
		}
	}

	r = ask(&rpb.ServerReflectionRequest{MessageRequest: &rpb.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: "roster.v1.NoSuchThing"}})
	if r.GetErrorResponse().GetErrorCode() != int32(codes.NotFound) {
		t.Fatalf("unknown symbol: %v", r)
	}
	must(t, "CloseSend", stream.CloseSend())
}

func TestWatchChanges(t *testing.T) {
	ctx, cancel := admin()
	defer cancel()
	stream, err := client.WatchChanges(ctx, &pb.WatchChangesRequest{After: proto.Uint64(0)})
	must(t, "WatchChanges", err)
	first, err := stream.Recv()
	must(t, "Recv", err)
	if first.GetSeq() != 1 || first.GetKind() == pb.ChangeKind_CHANGE_KIND_UNSPECIFIED {
		t.Fatalf("first event: %v", first)
	}
	// A user created now arrives on the open stream, after every older event.
	ref, email := fresh("watch")
	u, err := client.CreateUser(ctx, &pb.CreateUserRequest{Reference: proto.String(ref), Email: proto.String(email)})
	must(t, "CreateUser", err)
	last := first.GetSeq()
	for {
		ch, err := stream.Recv()
		must(t, "Recv", err)
		if ch.GetSeq() != last+1 {
			t.Fatalf("seq %d after %d", ch.GetSeq(), last)
		}
		last = ch.GetSeq()
		if ch.GetKind() == pb.ChangeKind_CHANGE_KIND_USER_CREATED && ch.GetId() == u.GetId() {
			if ch.GetUser().GetEmail() != email {
				t.Fatalf("created event: %v", ch)
			}
			break
		}
	}
	cancel()
	if _, err := stream.Recv(); status.Code(err) != codes.Canceled {
		t.Fatalf("after cancel: %v", err)
	}
	// Without a key the stream is refused.
	nctx, ncancel := as("")
	defer ncancel()
	s2, err := client.WatchChanges(nctx, &pb.WatchChangesRequest{After: proto.Uint64(0)})
	must(t, "WatchChanges without a key", err)
	_, err = s2.Recv()
	wantCode(t, "WatchChanges without a key", err, codes.Unauthenticated)
}
