<?php
/**
 * Each form plugin's after-submit hook fired inside the real test WordPress (with the plugin
 * active) with the arguments that plugin passes, built as stand-ins of the documented shapes
 * (the plugins themselves cannot be installed here); the queued payload is checked field by
 * field. Also: what each plugin marks as spam or demo is skipped, a hook that fires twice for
 * one entry queues it once, the wp-config.php constants win over the options, and the
 * sender's reading of answers and its backoff schedule.
 *
 *   php form-hooks.php DOCROOT URL
 *
 * Prints `ok - …` / `not ok - …` and `N passed, N failed`; exits 1 on a failure.
 *
 * @package Echo5_Leads
 */

if ( PHP_SAPI !== 'cli' ) {
	exit( 1 );
}
list( , $echo5_docroot, $echo5_url ) = $argv;
$echo5_parts                         = parse_url( $echo5_url ); // phpcs:ignore Echo5WP -- before WordPress is loaded.
$_SERVER['HTTP_HOST']                = $echo5_parts['host'] . ':' . $echo5_parts['port'];
$_SERVER['REQUEST_URI']              = '/';
$_SERVER['SERVER_PROTOCOL']          = 'HTTP/1.1';

// wp-config.php constants as an agency would set them: they win over the options. Port 9
// (discard) refuses at once, so nothing queued here reaches a daemon.
define( 'ECHO5_LEADS_URL', 'http://127.0.0.1:9' );
define( 'ECHO5_LEADS_API_KEY', 'e5_CONSTANTKEYconstantkey0123456789' );

require $echo5_docroot . '/wp-load.php';

$GLOBALS['echo5_passed'] = 0;
$GLOBALS['echo5_failed'] = 0;
$GLOBALS['echo5_rows']   = array();

/**
 * Records one check.
 *
 * @param string $name What is checked.
 * @param bool   $ok   Whether it holds.
 * @param string $why  Shown when it does not.
 */
function echo5_check( $name, $ok, $why = '' ) {
	if ( $ok ) {
		++$GLOBALS['echo5_passed'];
		echo 'ok - ' . $name . "\n";
	} else {
		++$GLOBALS['echo5_failed'];
		echo 'not ok - ' . $name . ( '' !== $why ? ': ' . $why : '' ) . "\n";
	}
}

/**
 * The outbox rows made since the last call.
 */
function echo5_new_rows() {
	global $wpdb;
	static $last = null;
	$table = $wpdb->prefix . 'echo5_leads_outbox';
	if ( null === $last ) {
		$last = (int) $wpdb->get_var( "SELECT COALESCE(MAX(id), 0) FROM {$table}" );
		return array();
	}
	$rows = $wpdb->get_results( $wpdb->prepare( "SELECT * FROM {$table} WHERE id > %d ORDER BY id", $last ), ARRAY_A );
	foreach ( $rows as $row ) {
		$last                    = max( $last, (int) $row['id'] );
		$GLOBALS['echo5_rows'][] = (int) $row['id'];
	}
	return $rows;
}

/**
 * Checks that exactly one row was queued and its payload has `$expected` field by field, and
 * no lead field that is not expected.
 *
 * @param string $name     Case name.
 * @param array  $expected Field => value.
 * @param string $key_re   Pattern the Idempotency-Key must match.
 */
function echo5_expect_payload( $name, array $expected, $key_re ) {
	$rows = echo5_new_rows();
	echo5_check( "$name: one row queued", 1 === count( $rows ), count( $rows ) . ' rows' );
	if ( 1 !== count( $rows ) ) {
		return;
	}
	$payload = json_decode( $rows[0]['payload'], true );
	foreach ( $expected as $field => $value ) {
		echo5_check( "$name: $field", ( $payload[ $field ] ?? null ) === $value, var_export( $payload[ $field ] ?? null, true ) . ' != ' . var_export( $value, true ) ); // phpcs:ignore Generic.PHP.ForbiddenFunctions -- test output.
	}
	$lead_fields = array_merge( Echo5_Leads_Payload::LEAD_FIELDS, Echo5_Leads_Context::ATTRIBUTION, array( 'page_url', 'referrer', 'ip', 'user_agent', 'entry_id' ) );
	foreach ( $lead_fields as $field ) {
		if ( ! array_key_exists( $field, $expected ) ) {
			echo5_check( "$name: no $field", ! isset( $payload[ $field ] ), 'has ' . wp_json_encode( $payload[ $field ] ?? null ) );
		}
	}
	echo5_check( "$name: site and time", home_url( '/' ) === ( $payload['site'] ?? '' ) && 1 === preg_match( '/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/', $payload['submitted_at'] ?? '' ) );
	echo5_check( "$name: Idempotency-Key", 1 === preg_match( $key_re, $rows[0]['idempotency_key'] ), $rows[0]['idempotency_key'] );
	echo5_check( "$name: queued, no attempt yet in this request", 'queued' === $rows[0]['status'] && 0 === (int) $rows[0]['attempts'] );
}

/**
 * Sets the visitor's attribution cookie as the script writes it, or removes it.
 *
 * @param array|null $attr Fields.
 */
function echo5_cookie( $attr ) {
	if ( null === $attr ) {
		unset( $_COOKIE['echo5_attr'] );
		return;
	}
	$_COOKIE['echo5_attr'] = wp_slash( wp_json_encode( $attr ) );
}

$echo5_site    = get_option( 'echo5_leads_site_id' ) ? get_option( 'echo5_leads_site_id' ) : '';
$echo5_session = array(
	'utm_source'   => 'google',
	'utm_medium'   => 'cpc',
	'utm_campaign' => 'brand',
	'gclid'        => 'GCLID1',
	'landing_page' => 'https://site.example/?utm_source=google&utm_medium=cpc',
	'referrer'     => 'https://www.google.com/',
);
$_SERVER['REMOTE_ADDR']     = '203.0.113.50';
$_SERVER['HTTP_USER_AGENT'] = 'Visitor UA';
echo5_new_rows();
// No hook may touch the network: every request WordPress would make while the hooks below
// fire is recorded and refused.
$echo5_hook_http  = array();
$echo5_hook_guard = static function ( $pre, $args, $url ) use ( &$echo5_hook_http ) {
	$echo5_hook_http[] = $url;
	return new WP_Error( 'echo5_test', 'no network I/O in a hook' );
};
add_filter( 'pre_http_request', $echo5_hook_guard, 10, 3 );

// ---- Contact Form 7: wpcf7_submit( $contact_form, $result ) -------------------------------

/**
 * Stand-in of WPCF7_Submission (includes/submission.php): a singleton of the request's
 * submission with its posted data and meta.
 */
class WPCF7_Submission {
	/**
	 * The current submission.
	 *
	 * @var WPCF7_Submission|null
	 */
	public static $current = null;

	/**
	 * Posted data and meta.
	 *
	 * @param array $posted Posted data.
	 * @param array $meta   Meta.
	 */
	public function __construct( public array $posted, public array $meta ) {
	}

	/**
	 * As CF7's.
	 */
	public static function get_instance() {
		return self::$current;
	}

	/**
	 * As CF7's.
	 */
	public function get_posted_data() {
		return $this->posted;
	}

	/**
	 * As CF7's.
	 *
	 * @param string $name Meta name.
	 */
	public function get_meta( $name ) {
		return $this->meta[ $name ] ?? null;
	}
}

/**
 * Stand-in of WPCF7_ContactForm: id(), title(), in_demo_mode(), scan_form_tags().
 */
class Echo5_Test_CF7_Form {
	/**
	 * A form.
	 *
	 * @param bool $demo Demo mode.
	 */
	public function __construct( public bool $demo = false ) {
	}

	/**
	 * As CF7's.
	 */
	public function id() {
		return 12;
	}

	/**
	 * As CF7's.
	 */
	public function title() {
		return 'Contact form 1';
	}

	/**
	 * As CF7's.
	 */
	public function in_demo_mode() {
		return $this->demo;
	}

	/**
	 * WPCF7_FormTag objects: name, type, basetype.
	 */
	public function scan_form_tags() {
		$tags = array();
		foreach ( array(
			'your-name'    => 'text',
			'your-email'   => 'email',
			'your-tel'     => 'tel',
			'your-subject' => 'text',
			'your-message' => 'textarea',
			'checkbox-1'   => 'checkbox',
		) as $name => $basetype ) {
			$tags[] = (object) array(
				'name'     => $name,
				'type'     => $basetype . '*',
				'basetype' => $basetype,
			);
		}
		return $tags;
	}
}

echo5_cookie( $echo5_session );
WPCF7_Submission::$current = new WPCF7_Submission(
	array(
		'your-name'       => 'Jane Doe',
		'your-email'      => 'jane@example.com',
		'your-tel'        => '(555) 010-2000',
		'your-subject'    => 'Care',
		'your-message'    => 'Hi',
		'checkbox-1'      => array( 'A', 'B' ),
		'_wpcf7_unit_tag' => 'wpcf7-f12-p5-o1',
	),
	array(
		'url'        => 'https://site.example/contact/',
		'remote_ip'  => '203.0.113.9',
		'user_agent' => 'Mozilla/5.0 test',
	)
);
do_action( 'wpcf7_submit', new Echo5_Test_CF7_Form(), array( 'status' => 'mail_sent' ) );
echo5_expect_payload(
	'cf7 mail_sent',
	array(
		'name'         => 'Jane Doe',
		'email'        => 'jane@example.com',
		'phone'        => '(555) 010-2000',
		'message'      => 'Hi',
		'form_name'    => 'Contact form 1',
		'form_id'      => '12',
		'form_plugin'  => 'cf7',
		'page_url'     => 'https://site.example/contact/',
		'ip'           => '203.0.113.9',
		'user_agent'   => 'Mozilla/5.0 test',
		'utm_source'   => 'google',
		'utm_medium'   => 'cpc',
		'utm_campaign' => 'brand',
		'gclid'        => 'GCLID1',
		'referrer'     => 'https://www.google.com/',
		'landing_page' => 'https://site.example/?utm_source=google&utm_medium=cpc',
		'form_fields'  => array(
			'your-name'    => 'Jane Doe',
			'your-email'   => 'jane@example.com',
			'your-tel'     => '(555) 010-2000',
			'your-subject' => 'Care',
			'your-message' => 'Hi',
			'checkbox-1'   => 'A, B',
		),
	),
	'/^wp-[a-z0-9]+-cf7-12-[0-9a-f\-]{36}$/'
);
do_action( 'wpcf7_submit', new Echo5_Test_CF7_Form(), array( 'status' => 'mail_failed' ) );
echo5_check( 'cf7 mail_failed is still a lead', 1 === count( echo5_new_rows() ) );
foreach ( array( 'spam', 'validation_failed', 'aborted', 'acceptance_missing' ) as $echo5_status ) {
	do_action( 'wpcf7_submit', new Echo5_Test_CF7_Form(), array( 'status' => $echo5_status ) );
	echo5_check( "cf7 $echo5_status is skipped", 0 === count( echo5_new_rows() ) );
}
do_action( 'wpcf7_submit', new Echo5_Test_CF7_Form( true ), array( 'status' => 'mail_sent' ) );
echo5_check( 'cf7 demo mode is skipped', 0 === count( echo5_new_rows() ) );

// ---- WPForms: wpforms_process_complete( $fields, $entry, $form_data, $entry_id ) ----------

echo5_cookie( null );
do_action(
	'wpforms_process_complete',
	array(
		1 => array(
			'name'   => 'Name',
			'value'  => 'Jane Doe',
			'id'     => 1,
			'type'   => 'name',
			'first'  => 'Jane',
			'middle' => '',
			'last'   => 'Doe',
		),
		2 => array(
			'name'  => 'Email',
			'value' => 'jane@example.com',
			'id'    => 2,
			'type'  => 'email',
		),
		3 => array(
			'name'  => 'Phone',
			'value' => '(555) 010-2000',
			'id'    => 3,
			'type'  => 'phone',
		),
		4 => array(
			'name'  => 'Comment or Message',
			'value' => 'Hello from WPForms',
			'id'    => 4,
			'type'  => 'textarea',
		),
		5 => array(
			'name'  => 'Services',
			'value' => "Nursing\nMeals",
			'id'    => 5,
			'type'  => 'checkbox',
		),
	),
	array(
		'fields' => array( 1 => array( 'first' => 'Jane' ) ),
		'id'     => 77,
	),
	array(
		'id'         => 77,
		'settings'   => array( 'form_title' => 'Simple Contact Form' ),
		'entry_meta' => array(
			'page_url'    => 'https://site.example/wpforms/?utm_source=bing&utm_campaign=winter',
			'url_referer' => 'https://www.bing.com/',
		),
	),
	0
);
echo5_expect_payload(
	'wpforms (Lite: entry id 0)',
	array(
		'name'         => 'Jane Doe',
		'first_name'   => 'Jane',
		'last_name'    => 'Doe',
		'email'        => 'jane@example.com',
		'phone'        => '(555) 010-2000',
		'message'      => 'Hello from WPForms',
		'form_name'    => 'Simple Contact Form',
		'form_id'      => '77',
		'form_plugin'  => 'wpforms',
		'page_url'     => 'https://site.example/wpforms/?utm_source=bing&utm_campaign=winter',
		'utm_source'   => 'bing',
		'utm_campaign' => 'winter',
		'ip'           => '203.0.113.50',
		'user_agent'   => 'Visitor UA',
		'form_fields'  => array(
			'Name (first)'       => 'Jane',
			'Name (last)'        => 'Doe',
			'Name'               => 'Jane Doe',
			'Email'              => 'jane@example.com',
			'Phone'              => '(555) 010-2000',
			'Comment or Message' => 'Hello from WPForms',
			'Services'           => "Nursing\nMeals",
		),
	),
	'/^wp-[a-z0-9]+-wpforms-77-[0-9a-f\-]{36}$/'
);

// ---- Gravity Forms: gform_after_submission( $entry, $form ) -------------------------------

echo5_cookie( null );
$echo5_gf_form  = array(
	'id'     => 3,
	'title'  => 'Request a quote',
	'fields' => array(
		(object) array(
			'id'     => 1,
			'label'  => 'Name',
			'type'   => 'name',
			'inputs' => array(
				array(
					'id'    => '1.2',
					'label' => 'Prefix',
				),
				array(
					'id'    => '1.3',
					'label' => 'First',
				),
				array(
					'id'    => '1.4',
					'label' => 'Middle',
				),
				array(
					'id'    => '1.6',
					'label' => 'Last',
				),
				array(
					'id'    => '1.8',
					'label' => 'Suffix',
				),
			),
		),
		(object) array(
			'id'     => 2,
			'label'  => 'Email',
			'type'   => 'email',
			// With "Enable Email Confirmation": the address and its repeat.
			'inputs' => array(
				array(
					'id'    => '2',
					'label' => 'Enter Email',
				),
				array(
					'id'    => '2.2',
					'label' => 'Confirm Email',
				),
			),
		),
		(object) array(
			'id'    => 3,
			'label' => 'Phone',
			'type'  => 'phone',
		),
		(object) array(
			'id'    => 4,
			'label' => 'How can we help?',
			'type'  => 'textarea',
		),
		(object) array(
			'id'     => 5,
			'label'  => 'Address',
			'type'   => 'address',
			'inputs' => array( array( 'id' => '5.1' ), array( 'id' => '5.3' ), array( 'id' => '5.5' ) ),
		),
	),
);
$echo5_gf_entry = array(
	'id'         => '41',
	'form_id'    => '3',
	'status'     => 'active',
	'source_url' => 'https://site.example/quote/?utm_source=bing&utm_medium=cpc&fbclid=FB9',
	'ip'         => '198.51.100.7',
	'user_agent' => 'GF UA',
	'1.3'        => 'John',
	'1.6'        => 'Smith',
	'2'          => 'john@example.com',
	'2.2'        => 'john@example.com',
	'3'          => '(555) 010-3000',
	'4'          => 'Quote please',
	'5.1'        => '1 Main St',
	'5.3'        => 'Springfield',
	'5.5'        => '',
);
do_action( 'gform_after_submission', $echo5_gf_entry, $echo5_gf_form );
echo5_expect_payload(
	'gravityforms',
	array(
		'name'        => 'John Smith',
		'first_name'  => 'John',
		'last_name'   => 'Smith',
		'email'       => 'john@example.com',
		'phone'       => '(555) 010-3000',
		'message'     => 'Quote please',
		'form_name'   => 'Request a quote',
		'form_id'     => '3',
		'entry_id'    => '41',
		'form_plugin' => 'gravityforms',
		'page_url'    => 'https://site.example/quote/?utm_source=bing&utm_medium=cpc&fbclid=FB9',
		'utm_source'  => 'bing',
		'utm_medium'  => 'cpc',
		'fbclid'      => 'FB9',
		'ip'          => '198.51.100.7',
		'user_agent'  => 'GF UA',
		'form_fields' => array(
			'Name (first)'     => 'John',
			'Name (last)'      => 'Smith',
			'Email'            => 'john@example.com',
			'Phone'            => '(555) 010-3000',
			'How can we help?' => 'Quote please',
			'Address'          => '1 Main St, Springfield',
		),
	),
	'/^wp-[a-z0-9]+-gravityforms-3-entry-41$/'
);
do_action( 'gform_after_submission', $echo5_gf_entry, $echo5_gf_form );
echo5_check( 'gravityforms: the same entry again queues nothing', 0 === count( echo5_new_rows() ) );
$echo5_gf_entry['id']     = '42';
$echo5_gf_entry['status'] = 'spam';
do_action( 'gform_after_submission', $echo5_gf_entry, $echo5_gf_form );
echo5_check( 'gravityforms: a spam entry is skipped', 0 === count( echo5_new_rows() ) );

// ---- Elementor Pro: elementor_pro/forms/new_record( $record, $ajax_handler ) --------------

/**
 * Stand-in of ElementorPro\Modules\Forms\Classes\Form_Record.
 */
class Echo5_Test_Elementor_Record {
	/**
	 * As Elementor's: `fields` => [custom_id => [id, type, title, value, raw_value, required]].
	 *
	 * @param string $key Property.
	 */
	public function get( $key ) {
		if ( 'fields' !== $key ) {
			return null;
		}
		return array(
			'name'       => array(
				'id'        => 'name',
				'type'      => 'text',
				'title'     => 'Name',
				'value'     => 'Ann Lee',
				'raw_value' => 'Ann Lee',
				'required'  => '1',
			),
			'email'      => array(
				'id'        => 'email',
				'type'      => 'email',
				'title'     => 'Email',
				'value'     => 'ann@example.com',
				'raw_value' => 'ann@example.com',
				'required'  => '1',
			),
			'field_1a2b' => array(
				'id'        => 'field_1a2b',
				'type'      => 'tel',
				'title'     => 'Best number to reach you',
				'value'     => '555-010-4000',
				'raw_value' => '555-010-4000',
				'required'  => '',
			),
			'message'    => array(
				'id'        => 'message',
				'type'      => 'textarea',
				'title'     => 'Message',
				'value'     => 'Elementor hello',
				'raw_value' => 'Elementor hello',
				'required'  => '',
			),
			'field_hp'   => array(
				'id'        => 'field_hp',
				'type'      => 'honeypot',
				'title'     => '',
				'value'     => '',
				'raw_value' => '',
				'required'  => '',
			),
		);
	}

	/**
	 * As Elementor's.
	 *
	 * @param string $key Setting.
	 */
	public function get_form_settings( $key ) {
		$settings = array(
			'id'           => '4f2a1b7',
			'form_name'    => 'Elementor contact',
			'form_post_id' => 55,
		);
		return $settings[ $key ] ?? null;
	}

	/**
	 * As Elementor's: [key => [title, value]].
	 *
	 * @param array $keys Meta keys.
	 */
	public function get_form_meta( $keys ) {
		$meta = array(
			'page_url'   => array(
				'title' => 'Page URL',
				'value' => 'https://site.example/el/',
			),
			'remote_ip'  => array(
				'title' => 'Remote IP',
				'value' => '192.0.2.5',
			),
			'user_agent' => array(
				'title' => 'User Agent',
				'value' => 'EL UA',
			),
		);
		return array_intersect_key( $meta, array_flip( $keys ) );
	}
}

echo5_cookie( $echo5_session );
do_action( 'elementor_pro/forms/new_record', new Echo5_Test_Elementor_Record(), (object) array( 'is_success' => true ) );
echo5_expect_payload(
	'elementor',
	array(
		'name'         => 'Ann Lee',
		'email'        => 'ann@example.com',
		'phone'        => '555-010-4000',
		'message'      => 'Elementor hello',
		'form_name'    => 'Elementor contact',
		'form_id'      => '4f2a1b7',
		'form_plugin'  => 'elementor',
		'page_url'     => 'https://site.example/el/',
		'ip'           => '192.0.2.5',
		'user_agent'   => 'EL UA',
		'utm_source'   => 'google',
		'utm_medium'   => 'cpc',
		'utm_campaign' => 'brand',
		'gclid'        => 'GCLID1',
		'referrer'     => 'https://www.google.com/',
		'landing_page' => 'https://site.example/?utm_source=google&utm_medium=cpc',
		'form_fields'  => array(
			'Name'                     => 'Ann Lee',
			'Email'                    => 'ann@example.com',
			'Best number to reach you' => '555-010-4000',
			'Message'                  => 'Elementor hello',
		),
	),
	'/^wp-[a-z0-9]+-elementor-4f2a1b7-[0-9a-f\-]{36}$/'
);

// ---- Fluent Forms: fluentform/submission_inserted( $insert_id, $form_data, $form ) --------

echo5_cookie( null );
$echo5_fluent_data = array(
	'__fluent_form_embded_post_id'  => '5',
	'_fluentform_2_fluentformnonce' => 'abc123',
	'_wp_http_referer'              => '/fluent/?utm_source=facebook&utm_medium=social',
	'names'                         => array(
		'first_name' => 'Mia',
		'last_name'  => 'Wong',
	),
	'email'                         => 'mia@example.com',
	'phone'                         => '555-010-5000',
	'subject'                       => 'Visit',
	'message'                       => 'Fluent message',
);
$echo5_fluent_form = (object) array(
	'id'    => 2,
	'title' => 'Contact Form Demo',
);
// Fluent's entries table as its Submission model has it (the columns read here): entry 9 a
// clean one, entry 10 what Akismet or CleanTalk set to "mark as spam" stored.
$table = $wpdb->prefix . 'fluentform_submissions';
$wpdb->query( "CREATE TABLE IF NOT EXISTS {$table} (id bigint(20) unsigned NOT NULL AUTO_INCREMENT, form_id int(11) NOT NULL, status varchar(45) DEFAULT 'unread', PRIMARY KEY  (id))" );
$wpdb->query( $wpdb->prepare( "INSERT INTO {$table} (id, form_id, status) VALUES (9, 2, %s), (10, 2, %s)", 'unread', 'spam' ) );
do_action( 'fluentform/submission_inserted', 9, $echo5_fluent_data, $echo5_fluent_form );
// Fluent fires its legacy name too, for the same submission.
do_action( 'fluentform_submission_inserted', 9, $echo5_fluent_data, $echo5_fluent_form );
$echo5_home = wp_parse_url( home_url( '/' ) );
echo5_expect_payload(
	'fluentforms (both hook names fired)',
	array(
		'name'        => 'Mia Wong',
		'first_name'  => 'Mia',
		'last_name'   => 'Wong',
		'email'       => 'mia@example.com',
		'phone'       => '555-010-5000',
		'message'     => 'Fluent message',
		'form_name'   => 'Contact Form Demo',
		'form_id'     => '2',
		'entry_id'    => '9',
		'form_plugin' => 'fluentforms',
		'page_url'    => $echo5_home['scheme'] . '://' . $echo5_home['host'] . ':' . $echo5_home['port'] . '/fluent/?utm_source=facebook&utm_medium=social',
		'utm_source'  => 'facebook',
		'utm_medium'  => 'social',
		'ip'          => '203.0.113.50',
		'user_agent'  => 'Visitor UA',
		'form_fields' => array(
			'names[first_name]' => 'Mia',
			'names[last_name]'  => 'Wong',
			'email'             => 'mia@example.com',
			'phone'             => '555-010-5000',
			'subject'           => 'Visit',
			'message'           => 'Fluent message',
		),
	),
	'/^wp-[a-z0-9]+-fluentforms-2-entry-9$/'
);
do_action( 'fluentform/submission_inserted', 10, $echo5_fluent_data, $echo5_fluent_form );
do_action( 'fluentform_submission_inserted', 10, $echo5_fluent_data, $echo5_fluent_form );
echo5_check( 'fluentforms: an entry Fluent stored as spam is skipped', 0 === count( echo5_new_rows() ) );
$wpdb->query( "DROP TABLE IF EXISTS {$table}" );
// Without Fluent's table (or its row) nothing says spam: the lead is kept.
do_action( 'fluentform/submission_inserted', 11, $echo5_fluent_data, $echo5_fluent_form );
echo5_check( 'fluentforms: no entries table, the entry is kept', 1 === count( echo5_new_rows() ) );

// ---- Ninja Forms: ninja_forms_after_submission( $form_data ) ------------------------------

echo5_cookie( $echo5_session );
$_SERVER['HTTP_REFERER'] = 'https://site.example/ninja/';
do_action(
	'ninja_forms_after_submission',
	array(
		'form_id'  => '1',
		'settings' => array( 'title' => 'Contact Me' ),
		'fields'   => array(
			1 => array(
				'id'    => 1,
				'key'   => 'name',
				'label' => 'Name',
				'type'  => 'textbox',
				'value' => 'Sam Roe',
			),
			2 => array(
				'id'    => 2,
				'key'   => 'email',
				'label' => 'Email',
				'type'  => 'email',
				'value' => 'sam@example.com',
			),
			3 => array(
				'id'    => 3,
				'key'   => 'phone_1623',
				'label' => 'Phone',
				'type'  => 'phone',
				'value' => '555-010-6000',
			),
			4 => array(
				'id'    => 4,
				'key'   => 'message',
				'label' => 'Message',
				'type'  => 'textarea',
				'value' => 'Ninja msg',
			),
			5 => array(
				'id'    => 5,
				'key'   => 'submit',
				'label' => 'Submit',
				'type'  => 'submit',
				'value' => '',
			),
			6 => array(
				'id'    => 6,
				'key'   => 'utm_source',
				'label' => 'utm_source',
				'type'  => 'hidden',
				'value' => 'ninja-hidden',
			),
		),
		'actions'  => array( 'save' => array( 'sub_id' => 77 ) ),
	)
);
echo5_expect_payload(
	'ninjaforms',
	array(
		'name'         => 'Sam Roe',
		'email'        => 'sam@example.com',
		'phone'        => '555-010-6000',
		'message'      => 'Ninja msg',
		'form_name'    => 'Contact Me',
		'form_id'      => '1',
		'entry_id'     => '77',
		'form_plugin'  => 'ninjaforms',
		'page_url'     => 'https://site.example/ninja/',
		'utm_source'   => 'ninja-hidden',
		'utm_medium'   => 'cpc',
		'utm_campaign' => 'brand',
		'gclid'        => 'GCLID1',
		'referrer'     => 'https://www.google.com/',
		'landing_page' => 'https://site.example/?utm_source=google&utm_medium=cpc',
		'ip'           => '203.0.113.50',
		'user_agent'   => 'Visitor UA',
		'form_fields'  => array(
			'Name'       => 'Sam Roe',
			'Email'      => 'sam@example.com',
			'Phone'      => '555-010-6000',
			'Message'    => 'Ninja msg',
			'utm_source' => 'ninja-hidden',
		),
	),
	'/^wp-[a-z0-9]+-ninjaforms-1-entry-77$/'
);

remove_filter( 'pre_http_request', $echo5_hook_guard, 10 );
echo5_check( 'no hook made a network request (sends wait for the end of the request)', array() === $echo5_hook_http, wp_json_encode( $echo5_hook_http ) );

// ---- wp-config.php constants ----------------------------------------------------------------

$echo5_saved = array( get_option( 'echo5_leads_url', '' ), get_option( 'echo5_leads_api_key', '' ) );
update_option( 'echo5_leads_url', 'http://option.example' );
update_option( 'echo5_leads_api_key', 'e5_OPTIONKEY' );
echo5_check( 'constants: the URL constant wins', 'http://127.0.0.1:9' === Echo5_Leads_Settings::url() && Echo5_Leads_Settings::url_is_constant() );
echo5_check( 'constants: the key constant wins', 'e5_CONSTANTKEYconstantkey0123456789' === Echo5_Leads_Settings::api_key() && Echo5_Leads_Settings::key_is_constant() );
ob_start();
Echo5_Leads_Settings::field_url();
Echo5_Leads_Settings::field_key();
$echo5_html = ob_get_clean();
echo5_check( 'constants: fields are read-only and not submitted', 2 === substr_count( $echo5_html, 'readonly="readonly"' ) && ! str_contains( $echo5_html, 'name=' ), $echo5_html );
echo5_check( 'a save without the URL field (the constant sets it) keeps the stored URL', 'http://option.example' === Echo5_Leads_Settings::sanitize_url( null ) );
echo5_check( 'a save with the key field blank keeps the stored key', 'e5_OPTIONKEY' === Echo5_Leads_Settings::sanitize_key( '' ) );
echo5_check( 'a URL is kept without its trailing slash', 'https://leads.example.com' === Echo5_Leads_Settings::sanitize_url( ' https://leads.example.com/ ' ) );
echo5_check( 'constants: the key shows masked', str_contains( $echo5_html, 'e5_CONST' ) && ! str_contains( $echo5_html, 'e5_CONSTANTKEYconstantkey0123456789' ), $echo5_html );
echo5_check( 'a daemon key shows its 8-character prefix only', 'e5_01234' . str_repeat( '•', 12 ) === Echo5_Leads_Settings::mask( 'e5_0123456789abcdef0123456789abcdef' ) );
echo5_check( 'a short key shows at most a quarter of itself', 'e5' . str_repeat( '•', 12 ) === Echo5_Leads_Settings::mask( 'e5_secret' ), Echo5_Leads_Settings::mask( 'e5_secret' ) );

// ---- outgoing requests: the key never follows a redirect ------------------------------------

$echo5_http = array();
$echo5_stub = static function ( $pre, $args, $url ) use ( &$echo5_http ) {
	$echo5_http[] = array( $url, $args );
	return array(
		'response' => array(
			'code'    => 302,
			'message' => 'Found',
		),
		'headers'  => array( 'location' => 'http://elsewhere.example/api/v1/key' ),
		'body'     => '',
		'cookies'  => array(),
		'filename' => null,
	);
};
add_filter( 'pre_http_request', $echo5_stub, 10, 3 );
$echo5_test = Echo5_Leads_Settings::test_connection();
echo5_check( 'test connection: a redirect is not followed', 1 === count( $echo5_http ) && 0 === $echo5_http[0][1]['redirection'], wp_json_encode( $echo5_http ) );
echo5_check( 'test connection: a redirect is reported, not taken for success', false === $echo5_test['ok'] && str_contains( $echo5_test['message'], 'http://elsewhere.example/api/v1/key' ), wp_json_encode( $echo5_test ) );
$echo5_http = array();
$echo5_id   = Echo5_Leads_Outbox::enqueue( 'wp-test-redirect-' . wp_generate_uuid4(), 'test', 'f', 'Redirect', '{"email":"redirect@example.com"}' );
$GLOBALS['echo5_rows'][] = $echo5_id;
$echo5_result            = Echo5_Leads_Sender::attempt( $echo5_id, 3 );
echo5_check( 'a send: the redirect is not followed and parks the row', 1 === count( $echo5_http ) && 0 === $echo5_http[0][1]['redirection'] && 'failed' === $echo5_result, wp_json_encode( $echo5_http ) );
echo5_check( 'a send: the stored body and its Idempotency-Key', '{"email":"redirect@example.com"}' === $echo5_http[0][1]['body'] && str_starts_with( $echo5_http[0][1]['headers']['Idempotency-Key'], 'wp-test-redirect-' ) );
remove_filter( 'pre_http_request', $echo5_stub, 10 );

// ---- storing: bytes that are not UTF-8, a database that refuses the row ---------------------

$echo5_form   = array(
	'source'    => 'test',
	'form_id'   => 'f',
	'form_name' => 'Latin-1 form',
	'entry_id'  => '',
);
$echo5_fields = array(
	array(
		'key'   => 'name',
		'label' => '',
		'type'  => 'text',
		'value' => "Ren\xe9e Dupont",
	),
	array(
		'key'   => 'email',
		'label' => '',
		'type'  => 'email',
		'value' => 'renee@example.com',
	),
);
echo5_new_rows(); // The rows queued by hand above are not this case's.
echo5_check( 'a Latin-1 value: stored', Echo5_Leads_Capture::store( $echo5_form, $echo5_fields ) > 0 );
$echo5_rows = echo5_new_rows();
$echo5_got  = 1 === count( $echo5_rows ) ? json_decode( $echo5_rows[0]['payload'], true ) : array();
echo5_check( 'a Latin-1 value: the byte becomes U+FFFD, the rest is kept', "Ren\u{FFFD}e Dupont" === ( $echo5_got['name'] ?? null ), wp_json_encode( $echo5_got ) );
$table = Echo5_Leads_Outbox::table();
$wpdb->query( "RENAME TABLE {$table} TO {$table}_away" );
$echo5_quiet = $wpdb->suppress_errors( true );
$echo5_fields[1]['value'] = 'refused@example.com';
$echo5_id = Echo5_Leads_Capture::store( $echo5_form, $echo5_fields );
$wpdb->suppress_errors( $echo5_quiet );
$wpdb->query( "RENAME TABLE {$table}_away TO {$table}" );
echo5_check( 'a refused INSERT is reported as not stored, not as a repeat', Echo5_Leads_Outbox::NOT_STORED === $echo5_id, (string) $echo5_id );

// ---- the sender: answers, backoff, giving up ----------------------------------------------

remove_all_filters( 'echo5_leads_retry_delay' );
/**
 * A response array as wp_remote_post returns it.
 *
 * @param int    $code    Status.
 * @param string $body    Body.
 * @param array  $headers Lower-case headers.
 */
function echo5_response( $code, $body, $headers = array() ) {
	return array(
		'response' => array(
			'code'    => $code,
			'message' => '',
		),
		'headers'  => $headers,
		'body'     => $body,
	);
}
$echo5_err = '{"error":{"code":"invalid_api_key","message":"The API key is not valid"}}';
$echo5_cases = array(
	array( 'refused', new WP_Error( 'http_request_failed', 'cURL error 7: Failed to connect to 127.0.0.1 port 9' ), 'retry', null ),
	array( 'timeout', new WP_Error( 'http_request_failed', 'cURL error 28: Operation timed out after 3001 milliseconds' ), 'retry', null ),
	array( '200', echo5_response( 200, '{"id":"0190-lead","status":"created"}' ), 'sent', null ),
	array( '503 Retry-After 30', echo5_response( 503, '{"error":{"code":"storage_busy","message":"busy"}}', array( 'retry-after' => '30' ) ), 'retry', 30 ),
	array( '502 from a proxy', echo5_response( 502, '<html>Bad gateway</html>' ), 'retry', null ),
	array( '429 Retry-After 120', echo5_response( 429, '{"error":{"code":"rate_limited","message":"slow"}}', array( 'retry-after' => '120' ) ), 'retry', 120 ),
	array( '408', echo5_response( 408, '' ), 'retry', null ),
	array( '401', echo5_response( 401, $echo5_err ), 'failed', null ),
	array( '400', echo5_response( 400, '{"error":{"code":"no_contact","message":"no name, email or phone"}}' ), 'failed', null ),
	array( '403', echo5_response( 403, '{"error":{"code":"tenant_inactive","message":"inactive"}}' ), 'failed', null ),
	array( '413', echo5_response( 413, '' ), 'failed', null ),
	array( '422', echo5_response( 422, '{"error":{"code":"idempotency_key_reused","message":"reused"}}' ), 'failed', null ),
	array( '301', echo5_response( 301, '', array( 'location' => 'https://leads.example/api/v1/leads' ) ), 'failed', null ),
);
foreach ( $echo5_cases as list( $echo5_name, $echo5_response, $echo5_kind, $echo5_after ) ) {
	$echo5_out = Echo5_Leads_Sender::classify( $echo5_response );
	echo5_check( "classify $echo5_name: $echo5_kind", $echo5_kind === $echo5_out['kind'] && $echo5_after === $echo5_out['retry_after'], wp_json_encode( $echo5_out ) );
}
$echo5_out = Echo5_Leads_Sender::classify( echo5_response( 401, $echo5_err ) );
echo5_check( "classify 401: the daemon's message kept", 'HTTP 401: The API key is not valid (invalid_api_key)' === $echo5_out['error'], $echo5_out['error'] );
echo5_check( 'classify 200: the lead id kept', '0190-lead' === Echo5_Leads_Sender::classify( echo5_response( 200, '{"id":"0190-lead"}' ) )['lead_id'] );
echo5_check( 'Retry-After as an HTTP date', abs( Echo5_Leads_Sender::parse_retry_after( gmdate( 'D, d M Y H:i:s', time() + 90 ) . ' GMT' ) - 90 ) <= 2 );
$echo5_delays = array();
foreach ( array( 1, 2, 3, 4, 5, 6, 7, 50 ) as $echo5_n ) {
	$echo5_delays[] = Echo5_Leads_Sender::delay( $echo5_n, null );
}
echo5_check( 'backoff 1, 2, 5, 10, 30 min, then hourly', array( 60, 120, 300, 600, 1800, 3600, 3600, 3600 ) === $echo5_delays, wp_json_encode( $echo5_delays ) );
echo5_check( 'Retry-After wins, at most 6 h', 30 === Echo5_Leads_Sender::delay( 1, 30 ) && 21600 === Echo5_Leads_Sender::delay( 1, 999999 ) );

$echo5_id = Echo5_Leads_Outbox::enqueue( 'wp-test-giveup-' . wp_generate_uuid4(), 'test', 'f', 'Give up', '{"email":"giveup@example.com"}' );
$GLOBALS['echo5_rows'][] = $echo5_id;
$echo5_result            = Echo5_Leads_Sender::attempt( $echo5_id, 3 );
$echo5_row               = Echo5_Leads_Outbox::get( $echo5_id );
echo5_check( 'refused: queued for a minute later', 'retry' === $echo5_result && 'queued' === $echo5_row['status'] && abs( (int) $echo5_row['next_attempt_at'] - time() - 60 ) <= 2, wp_json_encode( $echo5_row ) );
echo5_check( 'a row not due is not sent', 'skipped' === Echo5_Leads_Sender::attempt( $echo5_id, 3 ) );
$wpdb->update( Echo5_Leads_Outbox::table(), array( 'expires_at' => time() + 30, 'next_attempt_at' => 0 ), array( 'id' => $echo5_id ) );
$echo5_result = Echo5_Leads_Sender::attempt( $echo5_id, 3 );
$echo5_row    = Echo5_Leads_Outbox::get( $echo5_id );
echo5_check( 'past 7 days: parked as failed', 'failed' === $echo5_result && 'failed' === $echo5_row['status'] && str_starts_with( $echo5_row['last_error'], 'Gave up after 7 days' ), wp_json_encode( $echo5_row ) );
echo5_check( 'the retry window is 7 days, inside the daemon\'s 8 days of Idempotency-Keys', 7 * DAY_IN_SECONDS === Echo5_Leads_Sender::GIVE_UP_AFTER && Echo5_Leads_Sender::GIVE_UP_AFTER < 8 * DAY_IN_SECONDS );
echo5_check( 'the attempts are counted', 2 === (int) $echo5_row['attempts'] );

// Nothing this script queued may reach a daemon or stay behind.
foreach ( $GLOBALS['echo5_rows'] as $echo5_row_id ) {
	Echo5_Leads_Outbox::delete( (int) $echo5_row_id );
}
update_option( 'echo5_leads_url', $echo5_saved[0] );
update_option( 'echo5_leads_api_key', $echo5_saved[1] );

printf( "%d passed, %d failed\n", (int) $GLOBALS['echo5_passed'], (int) $GLOBALS['echo5_failed'] );
exit( $GLOBALS['echo5_failed'] > 0 ? 1 : 0 );
