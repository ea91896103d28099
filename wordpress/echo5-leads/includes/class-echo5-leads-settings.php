<?php
/**
 * Settings: daemon URL and API key (options, or constants in wp-config.php), and the
 * "test connection" action.
 *
 * @package Echo5_Leads
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * The settings page and where the plugin reads its configuration.
 */
final class Echo5_Leads_Settings {

	const OPTION_URL   = 'echo5_leads_url';
	const OPTION_KEY   = 'echo5_leads_api_key';
	const GROUP        = 'echo5_leads';
	const PAGE         = 'echo5-leads-settings';
	const TEST_ACTION  = 'echo5_leads_test_connection';
	const TEST_TIMEOUT = 10;

	/**
	 * Hooks for the admin side.
	 */
	public static function register(): void {
		add_action( 'admin_init', array( __CLASS__, 'register_settings' ) );
		add_action( 'admin_post_' . self::TEST_ACTION, array( __CLASS__, 'handle_test_connection' ) );
	}

	/**
	 * The daemon's base URL, without a trailing slash; the constant wins over the option.
	 */
	public static function url(): string {
		$url = self::url_is_constant() ? (string) constant( 'ECHO5_LEADS_URL' ) : (string) get_option( self::OPTION_URL, '' );
		return untrailingslashit( trim( $url ) );
	}

	/**
	 * The site's API key; the constant wins over the option.
	 */
	public static function api_key(): string {
		$key = self::key_is_constant() ? (string) constant( 'ECHO5_LEADS_API_KEY' ) : (string) get_option( self::OPTION_KEY, '' );
		return trim( $key );
	}

	/**
	 * Whether wp-config.php defines the URL (then the page shows it read-only).
	 */
	public static function url_is_constant(): bool {
		return defined( 'ECHO5_LEADS_URL' ) && '' !== (string) constant( 'ECHO5_LEADS_URL' );
	}

	/**
	 * Whether wp-config.php defines the key (then the page shows it read-only, masked).
	 */
	public static function key_is_constant(): bool {
		return defined( 'ECHO5_LEADS_API_KEY' ) && '' !== (string) constant( 'ECHO5_LEADS_API_KEY' );
	}

	/**
	 * Whether both a URL and a key are known, so sending can be attempted.
	 */
	public static function configured(): bool {
		return '' !== self::url() && '' !== self::api_key();
	}

	/**
	 * A key as the page shows it: its display prefix (the daemon shows the same 8 characters)
	 * and dots, never the secret. A key too short to be one of the daemon's shows at most a
	 * quarter of itself, so a mistyped short value is not shown whole either.
	 *
	 * @param string $key The key.
	 */
	public static function mask( string $key ): string {
		if ( '' === $key ) {
			return '';
		}
		return substr( $key, 0, min( 8, intdiv( strlen( $key ), 4 ) ) ) . str_repeat( '•', 12 );
	}

	/**
	 * Registers both options through the Settings API.
	 */
	public static function register_settings(): void {
		register_setting(
			self::GROUP,
			self::OPTION_URL,
			array(
				'type'              => 'string',
				'sanitize_callback' => array( __CLASS__, 'sanitize_url' ),
				'default'           => '',
			)
		);
		register_setting(
			self::GROUP,
			self::OPTION_KEY,
			array(
				'type'              => 'string',
				'sanitize_callback' => array( __CLASS__, 'sanitize_key' ),
				'default'           => '',
			)
		);
		add_settings_section( 'echo5_leads_daemon', __( 'Daemon', 'echo5-leads' ), '__return_false', self::PAGE );
		add_settings_field( self::OPTION_URL, __( 'Daemon URL', 'echo5-leads' ), array( __CLASS__, 'field_url' ), self::PAGE, 'echo5_leads_daemon', array( 'label_for' => self::OPTION_URL ) );
		add_settings_field( self::OPTION_KEY, __( 'API key', 'echo5-leads' ), array( __CLASS__, 'field_key' ), self::PAGE, 'echo5_leads_daemon', array( 'label_for' => self::OPTION_KEY ) );
	}

	/**
	 * Keeps an http(s) URL without a trailing slash.
	 *
	 * @param mixed $value Submitted value.
	 */
	public static function sanitize_url( $value ): string {
		if ( null === $value ) {
			// Not in the form (the constant sets the URL): the stored option stays as it is.
			return (string) get_option( self::OPTION_URL, '' );
		}
		$url = esc_url_raw( trim( (string) $value ), array( 'http', 'https' ) );
		return untrailingslashit( $url );
	}

	/**
	 * The key field is blank after a save (the key is never sent back to the browser), so a
	 * blank submission keeps the stored key.
	 *
	 * @param mixed $value Submitted value.
	 */
	public static function sanitize_key( $value ): string {
		$key = preg_replace( '/[^A-Za-z0-9_\-]/', '', (string) $value );
		if ( '' === $key ) {
			return (string) get_option( self::OPTION_KEY, '' );
		}
		return $key;
	}

	/**
	 * The URL field, read-only when the constant sets it.
	 */
	public static function field_url(): void {
		if ( self::url_is_constant() ) {
			printf(
				'<input type="url" class="regular-text code" id="%1$s" value="%2$s" readonly="readonly" /><p class="description">%3$s</p>',
				esc_attr( self::OPTION_URL ),
				esc_attr( self::url() ),
				esc_html__( 'Set by ECHO5_LEADS_URL in wp-config.php.', 'echo5-leads' )
			);
			return;
		}
		printf(
			'<input type="url" class="regular-text code" id="%1$s" name="%1$s" value="%2$s" placeholder="https://leads.example.com" /><p class="description">%3$s</p>',
			esc_attr( self::OPTION_URL ),
			esc_attr( (string) get_option( self::OPTION_URL, '' ) ),
			esc_html__( 'The address of your Echo5 Leads daemon.', 'echo5-leads' )
		);
	}

	/**
	 * The key field: the stored key shows masked, the input starts blank.
	 */
	public static function field_key(): void {
		if ( self::key_is_constant() ) {
			printf(
				'<input type="text" class="regular-text code" id="%1$s" value="%2$s" readonly="readonly" /><p class="description">%3$s</p>',
				esc_attr( self::OPTION_KEY ),
				esc_attr( self::mask( self::api_key() ) ),
				esc_html__( 'Set by ECHO5_LEADS_API_KEY in wp-config.php.', 'echo5-leads' )
			);
			return;
		}
		$stored = (string) get_option( self::OPTION_KEY, '' );
		printf(
			'<input type="password" class="regular-text code" id="%1$s" name="%1$s" value="" autocomplete="off" placeholder="%2$s" />',
			esc_attr( self::OPTION_KEY ),
			esc_attr( '' === $stored ? 'e5_…' : self::mask( $stored ) )
		);
		if ( '' !== $stored ) {
			printf(
				'<p class="description" id="echo5-leads-key-saved">%s</p>',
				esc_html(
					sprintf(
						/* translators: %s: the first characters of the saved API key. */
						__( 'Saved: %s — leave blank to keep it.', 'echo5-leads' ),
						self::mask( $stored )
					)
				)
			);
		}
	}

	/**
	 * The settings page.
	 */
	public static function render_page(): void {
		if ( ! current_user_can( 'manage_options' ) ) {
			return;
		}
		echo '<div class="wrap"><h1>' . esc_html__( 'Echo5 Leads settings', 'echo5-leads' ) . '</h1>';
		// A page outside Settings shows the "Settings saved" notice itself.
		settings_errors();
		self::render_test_result();
		$editable = ! ( self::url_is_constant() && self::key_is_constant() );
		echo '<form action="' . esc_url( admin_url( 'options.php' ) ) . '" method="post">';
		settings_fields( self::GROUP );
		do_settings_sections( self::PAGE );
		if ( $editable ) {
			submit_button();
		}
		echo '</form>';

		echo '<h2>' . esc_html__( 'Test connection', 'echo5-leads' ) . '</h2>';
		echo '<form action="' . esc_url( admin_url( 'admin-post.php' ) ) . '" method="post">';
		echo '<input type="hidden" name="action" value="' . esc_attr( self::TEST_ACTION ) . '" />';
		wp_nonce_field( self::TEST_ACTION );
		submit_button( __( 'Test connection', 'echo5-leads' ), 'secondary', 'echo5-leads-test', false );
		echo '</form>';

		echo '<h2>' . esc_html__( 'Shortcode', 'echo5-leads' ) . '</h2><p>';
		echo wp_kses(
			__( 'Put <code>[echo5_form name="Contact"]</code> on a page for a form of name, e-mail, phone and message. Submissions of Contact Form 7, WPForms, Gravity Forms, Elementor Pro, Fluent Forms and Ninja Forms are sent without any setup.', 'echo5-leads' ),
			array( 'code' => array() )
		);
		echo '</p></div>';
	}

	/**
	 * Asks the daemon which tenant the key belongs to.
	 */
	public static function handle_test_connection(): void {
		if ( ! current_user_can( 'manage_options' ) ) {
			wp_die( esc_html__( 'You are not allowed to do this.', 'echo5-leads' ), 403 );
		}
		check_admin_referer( self::TEST_ACTION );
		set_transient( 'echo5_leads_test_' . get_current_user_id(), self::test_connection(), 5 * MINUTE_IN_SECONDS );
		wp_safe_redirect( admin_url( 'admin.php?page=' . self::PAGE ) );
		exit;
	}

	/**
	 * `GET /api/v1/key` with the configured key.
	 *
	 * @return array{ok: bool, message: string}
	 */
	public static function test_connection(): array {
		if ( ! self::configured() ) {
			return array(
				'ok'      => false,
				'message' => __( 'Set the daemon URL and the API key first.', 'echo5-leads' ),
			);
		}
		$response = wp_remote_get(
			self::url() . '/api/v1/key',
			array(
				'timeout'     => self::TEST_TIMEOUT,
				// A redirect is not followed: the key would go to whatever address it names.
				'redirection' => 0,
				'headers'     => array(
					'X-API-Key' => self::api_key(),
					'Accept'    => 'application/json',
				),
			)
		);
		if ( is_wp_error( $response ) ) {
			return array(
				'ok'      => false,
				/* translators: %s: the transport's error message. */
				'message' => sprintf( __( 'The daemon could not be reached: %s', 'echo5-leads' ), $response->get_error_message() ),
			);
		}
		$code = (int) wp_remote_retrieve_response_code( $response );
		$body = json_decode( (string) wp_remote_retrieve_body( $response ), true );
		if ( $code >= 300 && $code < 400 ) {
			return array(
				'ok'      => false,
				'message' => sprintf(
					/* translators: %s: the address the daemon URL redirects to. */
					__( 'The daemon URL redirects to %s; set that address instead.', 'echo5-leads' ),
					(string) wp_remote_retrieve_header( $response, 'location' )
				),
			);
		}
		if ( 200 === $code && is_array( $body ) && isset( $body['tenant']['name'] ) && is_scalar( $body['tenant']['name'] ) ) {
			return array(
				'ok'      => true,
				'message' => sprintf(
					/* translators: 1: tenant name, 2: tenant slug. */
					__( 'Connected. This key belongs to %1$s (%2$s).', 'echo5-leads' ),
					(string) $body['tenant']['name'],
					is_scalar( $body['tenant']['slug'] ?? null ) ? (string) $body['tenant']['slug'] : ''
				),
			);
		}
		return array(
			'ok'      => false,
			/* translators: 1: HTTP status, 2: the daemon's error message. */
			'message' => sprintf( __( 'The daemon answered %1$d: %2$s', 'echo5-leads' ), $code, Echo5_Leads_Sender::error_message( $body, (string) wp_remote_retrieve_body( $response ) ) ),
		);
	}

	/**
	 * Shows (once) the result the test-connection action left for this user.
	 */
	private static function render_test_result(): void {
		$key    = 'echo5_leads_test_' . get_current_user_id();
		$result = get_transient( $key );
		if ( ! is_array( $result ) ) {
			return;
		}
		delete_transient( $key );
		printf(
			'<div class="notice %1$s" id="echo5-leads-test-result"><p>%2$s</p></div>',
			esc_attr( ! empty( $result['ok'] ) ? 'notice-success' : 'notice-error' ),
			esc_html( (string) ( $result['message'] ?? '' ) )
		);
	}
}
